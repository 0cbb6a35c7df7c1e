package i18n

// en is the English catalogue. Keep its keys and format verbs the same as da's.
// The names of controls are CONTRACT.md's: browser tests find them by role and name.
var en = map[string]string{
	// Every page.
	"site.name":       "OpenMitID",
	"skip":            "Skip to content",
	"lang.switch":     "Dansk",
	"login.to":        "Log in to %s",
	"help":            "Need help? Contact MitID support.",
	"title.error":     "Error",
	"error.prefix":    "Error:",
	"notice.prefix":   "Note:",
	"button.continue": "Continue",
	"button.cancel":   "Cancel",
	"link.methods":    "Choose another method",
	"minutes.one":     "1 minute",
	"minutes.other":   "%d minutes",

	// Identify.
	"identify.title": "Log in with MitID",
	"identify.label": "User ID",
	"identify.hint":  "The user ID you chose when you got MitID.",

	// Password.
	"password.title": "Enter your password",
	"password.user":  "You are logging in as %s.",
	"password.label": "Password",

	// Code display and audio code reader.
	"code.title.code_display":      "Enter the code from your code display",
	"code.hint.code_display":       "Press the button on your code display and enter the 6 digits it shows.",
	"code.title.audio_code_reader": "Enter the code from your audio code reader",
	"code.hint.audio_code_reader":  "Press the button on your audio code reader, listen to the code and enter the 6 digits.",
	"code.label":                   "Code",

	// Waiting for the app.
	"waiting.title":          "Approve in the MitID app",
	"waiting.intro":          "Open the MitID app on your phone. Scan the QR code, or enter the code below in the app. Then approve the request from %s.",
	"waiting.qr_alt":         "QR code for the MitID app. If you cannot scan it, enter the code %s in the app instead.",
	"waiting.qr_label":       "QR code for the MitID app",
	"waiting.code":           "Code for the app",
	"waiting.reference":      "Message from %s",
	"waiting.status":         "Waiting for you to approve in the app\u00a0…",
	"waiting.status_changed": "The request has been answered. One moment\u00a0…",
	"waiting.help_title":     "Nothing in the app?",
	"waiting.help_1":         "Open the MitID app and pull down on its front page to fetch the request.",
	"waiting.help_2":         "Check that your phone is connected to the internet.",
	"waiting.help_3":         "If it still does not work, choose another method, or cancel and start again.",
	"waiting.fraud":          "If you did not start this login yourself, choose “I did not start this” in the app.",
	"waiting.reload":         "I have approved in the app",
	"waiting.noscript":       "This page fetches a new QR code by itself every few seconds. Once you have approved in the app, press “I have approved in the app”.",

	// Chip.
	"chip.title":             "Use your MitID chip",
	"chip.intro":             "Insert the chip in your computer or hold it to your phone. Press Continue, and touch the chip when your browser asks you to.",
	"chip.noscript":          "The chip can only be used with JavaScript turned on in your browser. Turn it on, or choose another method.",
	"chip.touch":             "Touch your chip now\u00a0…",
	"chip.error_cancelled":   "The chip was not used: the request was cancelled or timed out. Try again, or choose another method.",
	"chip.error_unsupported": "Your browser cannot use a MitID chip. Try another browser, or choose another method.",
	"chip.error_other":       "Something went wrong with the chip. Try again, or choose another method.",
	"chip.help":              "Not working? Check that it is your MitID chip and that it is inserted properly. Try again, or choose another method.",

	// Choosing another method.
	"methods.title":                 "Choose how to log in",
	"methods.current":               "The method you are using now.",
	"methods.back":                  "Back",
	"method.app":                    "MitID app",
	"method.app.desc":               "Approve on your phone.",
	"method.code_display":           "Code display",
	"method.code_display.desc":      "Your password and a code from your code display.",
	"method.audio_code_reader":      "Audio code reader",
	"method.audio_code_reader.desc": "Your password and a code from your audio code reader.",
	"method.chip":                   "MitID chip",
	"method.chip.desc":              "Your MitID chip, and your password where it is needed.",
	"method.password":               "Password only",
	"method.password.desc":          "Only your password. Gives a low assurance level.",

	// Done.
	"done.title":       "You are logged in",
	"done.continue_to": "You are being sent on to %s. If nothing happens, press Continue.",
	"done.final":       "You can close this window now.",

	// Failed: the way forward.
	"fail.back":             "Back to %s",
	"fail.retry":            "Try again",
	"fail.close":            "You can close this window.",
	"cancelled.continue_to": "You are being sent back to %s. If nothing happens, press Continue.",

	// Failed: one title and explanation per failure code.
	"fail.flow_expired.title":        "Time ran out",
	"fail.flow_expired.body":         "The login took more than 10 minutes and was stopped for your security. Please try again.",
	"fail.expired.title":             "The request expired",
	"fail.expired.body":              "The request to your MitID app was not approved in time. Try again, and approve in the app within a few minutes.",
	"fail.rejected.title":            "You rejected the request",
	"fail.rejected.body":             "The request was rejected in the MitID app, so you are not logged in. If that was a mistake, try again.",
	"fail.fraud_reported.title":      "The login was stopped",
	"fail.fraud_reported.body":       "You answered in the app that you did not start this login. We stopped it and cancelled your other open requests. If you think someone else knows your password or can use your MitID, change your password and contact MitID support.",
	"fail.binding_failed.title":      "The app could not be matched to this screen",
	"fail.binding_failed.body":       "The QR code or the code was not recognised too many times. Try again, and scan the QR code on this page or enter the code it shows.",
	"fail.app_not_usable_yet.title":  "This app cannot be used yet",
	"fail.app_not_usable_yet.body":   "The app you answered with was added to your MitID recently and can be used once its waiting period is over. Use another app or method, or try again later.",
	"fail.replaced.title":            "A newer request replaced this one",
	"fail.replaced.body":             "A new request was sent to your app, perhaps from another window, so this one was stopped. Use the newest window, or try again here.",
	"fail.cancelled.title":           "The login was cancelled",
	"fail.cancelled.body":            "You cancelled the login.",
	"fail.identity_blocked.title":    "Your MitID is blocked",
	"fail.identity_blocked.body":     "You cannot log in until the block is lifted. Contact MitID support to have it lifted; you will need to prove who you are again.",
	"fail.level_not_reachable.title": "You cannot log in here with what you have",
	"fail.level_not_reachable.body":  "%s requires a higher assurance level than your MitID methods can give. With the MitID app, and for the highest level a MitID chip as well, you can log in.",
	"fail.chip_blocked.title":        "Your chip is blocked",
	"fail.chip_blocked.body":         "We blocked your MitID chip because a copy of it may be in use. Contact MitID support. Until then, you can try again and log in with another method.",
	"fail.unknown.title":             "The login did not succeed",
	"fail.unknown.body":              "The login was stopped. Please try again.",

	// Errors shown beside a field or at the top of a page, by the engine's codes.
	"error.user_id_required":      "Enter your user ID.",
	"error.password_required":     "Enter your password.",
	"error.password_too_long":     "The password is too long.",
	"error.wrong_password":        "The password is wrong. Try again.",
	"error.password_locked":       "Your password is locked after too many wrong attempts. You can try again in %s.",
	"error.code_format":           "The code must be 6 digits.",
	"error.wrong_code":            "The code is wrong or has been used already. Press the button for a new code and try again.",
	"error.code_locked":           "Too many wrong codes have been entered. You can try again in %s, or choose another method.",
	"error.rate_limited":          "There have been too many failed attempts from your network. You can try again in %s.",
	"error.chip_failed":           "The chip could not be verified. Try again, or choose another method.",
	"error.webauthn_required":     "Press Continue, and touch the chip when your browser asks you to. This needs JavaScript turned on.",
	"error.webauthn_too_large":    "The chip's answer was too large. Try again, or choose another method.",
	"error.too_many_app_requests": "Too many requests have been sent to your app in a short time. Wait a few minutes, or choose another method.",
	"error.app_request_pending":   "Another request to your app is being made. Please try again in a moment.",
	"error.method_not_available":  "That method cannot be used for this login. Choose another.",
	"error.unknown_method":        "That method cannot be used for this login. Choose another.",
	"error.generic":               "That did not work. Please try again.",

	// Pages without a flow.
	"notfound.title":    "We cannot find your login",
	"notfound.body":     "This login does not exist in this browser, or it has expired. Go back to the website you wanted to log in to and start again.",
	"forbidden.title":   "The form was refused",
	"forbidden.body":    "For your security, the form could not be sent. Go back to the login and try again.",
	"forbidden.back":    "Back to the login",
	"internal.title":    "Something went wrong",
	"internal.body":     "Something went wrong on our side. Please try again in a moment.",
	"unavailable.title": "The service is not available right now",
	"unavailable.body":  "The service is briefly unavailable. Please try again in a moment.",
}

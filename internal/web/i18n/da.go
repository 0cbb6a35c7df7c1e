package i18n

// da is the Danish catalogue. Keep its keys and format verbs the same as en's.
var da = map[string]string{
	// Every page.
	"site.name":       "OpenMitID",
	"skip":            "Gå til indholdet",
	"lang.switch":     "English", // the link to the other language, in that language
	"login.to":        "Log på hos %s",
	"help":            "Har du brug for hjælp, så kontakt MitID-support.",
	"title.error":     "Fejl",
	"error.prefix":    "Fejl:",
	"notice.prefix":   "Bemærk:",
	"button.continue": "Fortsæt",
	"button.cancel":   "Annuller",
	"link.methods":    "Vælg en anden metode",
	"minutes.one":     "1 minut",
	"minutes.other":   "%d minutter",

	// Identify.
	"identify.title": "Log på med MitID",
	"identify.label": "Bruger-ID",
	"identify.hint":  "Det bruger-ID, du valgte, da du fik MitID.",

	// Password.
	"password.title": "Skriv din adgangskode",
	"password.user":  "Du logger på som %s.",
	"password.label": "Adgangskode",

	// Code display and audio code reader.
	"code.title.code_display":      "Skriv koden fra din kodeviser",
	"code.hint.code_display":       "Tryk på knappen på kodeviseren, og skriv de 6 cifre, den viser.",
	"code.title.audio_code_reader": "Skriv koden fra din kodeoplæser",
	"code.hint.audio_code_reader":  "Tryk på knappen på kodeoplæseren, lyt til koden, og skriv de 6 cifre.",
	"code.label":                   "Kode",

	// Waiting for the app.
	"waiting.title":          "Godkend i MitID-appen",
	"waiting.intro":          "Åbn MitID-appen på din telefon. Scan QR-koden, eller skriv koden herunder i appen. Godkend derefter anmodningen fra %s.",
	"waiting.qr_alt":         "QR-kode til MitID-appen. Kan du ikke scanne den, så skriv i stedet koden %s i appen.",
	"waiting.qr_label":       "QR-kode til MitID-appen",
	"waiting.code":           "Kode til appen",
	"waiting.reference":      "Besked fra %s",
	"waiting.status":         "Venter på, at du godkender i appen\u00a0…",
	"waiting.status_changed": "Anmodningen er besvaret. Et øjeblik\u00a0…",
	"waiting.help_title":     "Er der ikke kommet noget i appen?",
	"waiting.help_1":         "Åbn MitID-appen, og træk ned på forsiden for at hente anmodningen.",
	"waiting.help_2":         "Tjek, at telefonen har forbindelse til internettet.",
	"waiting.help_3":         "Virker det stadig ikke, så vælg en anden metode, eller annuller og start forfra.",
	"waiting.fraud":          "Har du ikke selv startet dette log-in, så vælg »Jeg har ikke startet dette« i appen.",
	"waiting.reload":         "Jeg har godkendt i appen",
	"waiting.noscript":       "Siden henter selv en ny QR-kode med få sekunders mellemrum. Når du har godkendt i appen, så tryk på »Jeg har godkendt i appen«.",

	// Chip.
	"chip.title":             "Brug din MitID-chip",
	"chip.intro":             "Sæt chippen i computeren, eller hold den mod telefonen. Tryk på Fortsæt, og rør ved chippen, når browseren beder om det.",
	"chip.noscript":          "Chippen kan kun bruges, når JavaScript er slået til i browseren. Slå det til, eller vælg en anden metode.",
	"chip.touch":             "Rør ved chippen nu\u00a0…",
	"chip.error_cancelled":   "Chippen blev ikke brugt, fordi handlingen blev afbrudt, eller tiden løb ud. Prøv igen, eller vælg en anden metode.",
	"chip.error_unsupported": "Din browser kan ikke bruge en MitID-chip. Prøv en anden browser, eller vælg en anden metode.",
	"chip.error_other":       "Der gik noget galt med chippen. Prøv igen, eller vælg en anden metode.",
	"chip.help":              "Virker det ikke? Tjek, at det er din MitID-chip, og at den sidder rigtigt i. Prøv igen, eller vælg en anden metode.",

	// Choosing another method.
	"methods.title":                 "Vælg, hvordan du vil logge på",
	"methods.current":               "Den metode, du bruger nu.",
	"methods.back":                  "Tilbage",
	"method.app":                    "MitID-appen",
	"method.app.desc":               "Godkend på din telefon.",
	"method.code_display":           "Kodeviser",
	"method.code_display.desc":      "Din adgangskode og en kode fra kodeviseren.",
	"method.audio_code_reader":      "Kodeoplæser",
	"method.audio_code_reader.desc": "Din adgangskode og en kode fra kodeoplæseren.",
	"method.chip":                   "MitID-chip",
	"method.chip.desc":              "Din MitID-chip, og din adgangskode hvis det kræves.",
	"method.password":               "Kun adgangskode",
	"method.password.desc":          "Kun din adgangskode. Giver et lavt sikringsniveau.",

	// Done.
	"done.title":       "Du er logget på",
	"done.continue_to": "Du sendes nu videre til %s. Sker der ikke noget, så tryk på Fortsæt.",
	"done.final":       "Du kan nu lukke dette vindue.",

	// Failed: the way forward.
	"fail.back":             "Tilbage til %s",
	"fail.retry":            "Prøv igen",
	"fail.close":            "Du kan lukke dette vindue.",
	"cancelled.continue_to": "Du sendes nu tilbage til %s. Sker der ikke noget, så tryk på Fortsæt.",

	// Failed: one title and explanation per failure code.
	"fail.flow_expired.title":        "Tiden løb ud",
	"fail.flow_expired.body":         "Log-in varede mere end 10 minutter og er stoppet af hensyn til din sikkerhed. Prøv igen.",
	"fail.expired.title":             "Anmodningen udløb",
	"fail.expired.body":              "Anmodningen til din MitID-app blev ikke godkendt i tide. Prøv igen, og godkend i appen inden for et par minutter.",
	"fail.rejected.title":            "Du afviste anmodningen",
	"fail.rejected.body":             "Anmodningen blev afvist i MitID-appen, så du er ikke logget på. Var det en fejl, så prøv igen.",
	"fail.fraud_reported.title":      "Log-in er stoppet",
	"fail.fraud_reported.body":       "Du svarede i appen, at du ikke selv havde startet dette log-in. Vi har stoppet det og annulleret dine andre åbne anmodninger. Tror du, at en anden kender din adgangskode eller har adgang til dit MitID, så skift adgangskode og kontakt MitID-support.",
	"fail.binding_failed.title":      "Appen kunne ikke forbindes til denne skærm",
	"fail.binding_failed.body":       "QR-koden eller koden blev ikke genkendt for mange gange. Prøv igen, og scan QR-koden på denne side, eller skriv den kode, siden viser.",
	"fail.app_not_usable_yet.title":  "Denne app kan ikke bruges endnu",
	"fail.app_not_usable_yet.body":   "Appen, du svarede med, er for nylig tilføjet til dit MitID og kan bruges, når dens ventetid er gået. Brug en anden app eller metode, eller prøv igen senere.",
	"fail.replaced.title":            "En nyere anmodning erstattede denne",
	"fail.replaced.body":             "Der blev sendt en ny anmodning til din app, måske fra et andet vindue, så denne er stoppet. Brug det nyeste vindue, eller prøv igen her.",
	"fail.cancelled.title":           "Log-in er annulleret",
	"fail.cancelled.body":            "Du har annulleret log-in.",
	"fail.identity_blocked.title":    "Dit MitID er spærret",
	"fail.identity_blocked.body":     "Du kan ikke logge på, før spærringen er ophævet. Kontakt MitID-support for at få den ophævet. Det kræver, at du viser, hvem du er, igen.",
	"fail.level_not_reachable.title": "Du kan ikke logge på her med det, du har",
	"fail.level_not_reachable.body":  "%s kræver et højere sikringsniveau, end du kan opnå med dine MitID-metoder. Med MitID-appen, og for det højeste niveau også en MitID-chip, kan du logge på.",
	"fail.chip_blocked.title":        "Din chip er spærret",
	"fail.chip_blocked.body":         "Vi har spærret din MitID-chip, fordi der måske er en kopi af den i brug. Kontakt MitID-support. Indtil da kan du prøve igen og logge på med en anden metode.",
	"fail.unknown.title":             "Log-in lykkedes ikke",
	"fail.unknown.body":              "Log-in blev stoppet. Prøv igen.",

	// Errors shown beside a field or at the top of a page, by the engine's codes.
	"error.user_id_required":      "Skriv dit bruger-ID.",
	"error.password_required":     "Skriv din adgangskode.",
	"error.password_too_long":     "Adgangskoden er for lang.",
	"error.wrong_password":        "Adgangskoden er forkert. Prøv igen.",
	"error.password_locked":       "Din adgangskode er spærret efter for mange forkerte forsøg. Du kan prøve igen om %s.",
	"error.code_format":           "Koden skal være 6 cifre.",
	"error.wrong_code":            "Koden er forkert eller allerede brugt. Tryk på knappen for en ny kode, og prøv igen.",
	"error.code_locked":           "Der er skrevet for mange forkerte koder. Du kan prøve igen om %s eller vælge en anden metode.",
	"error.rate_limited":          "Der har været for mange mislykkede forsøg fra dit netværk. Du kan prøve igen om %s.",
	"error.chip_failed":           "Chippen kunne ikke godkendes. Prøv igen, eller vælg en anden metode.",
	"error.webauthn_required":     "Tryk på Fortsæt, og rør ved chippen, når browseren beder om det. Det kræver, at JavaScript er slået til.",
	"error.webauthn_too_large":    "Chippens svar var for stort. Prøv igen, eller vælg en anden metode.",
	"error.too_many_app_requests": "Der er sendt for mange anmodninger til din app på kort tid. Vent et par minutter, eller vælg en anden metode.",
	"error.app_request_pending":   "En anden anmodning til din app er ved at blive oprettet. Prøv igen om lidt.",
	"error.method_not_available":  "Den metode kan ikke bruges til dette log-in. Vælg en anden.",
	"error.unknown_method":        "Den metode kan ikke bruges til dette log-in. Vælg en anden.",
	"error.generic":               "Det lykkedes ikke. Prøv igen.",

	// Pages without a flow.
	"notfound.title":    "Vi kan ikke finde dit log-in",
	"notfound.body":     "Dette log-in findes ikke i denne browser, eller det er udløbet. Gå tilbage til den side, du ville logge på, og start forfra.",
	"forbidden.title":   "Formularen blev afvist",
	"forbidden.body":    "Af hensyn til din sikkerhed kunne formularen ikke sendes. Gå tilbage til log-in, og prøv igen.",
	"forbidden.back":    "Tilbage til log-in",
	"internal.title":    "Noget gik galt",
	"internal.body":     "Der opstod en fejl hos os. Prøv igen om lidt.",
	"unavailable.title": "Tjenesten er ikke tilgængelig lige nu",
	"unavailable.body":  "Tjenesten er kortvarigt utilgængelig. Prøv igen om lidt.",
}

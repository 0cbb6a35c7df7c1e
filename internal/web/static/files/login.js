// OpenMitID login pages. Every page works without this script where the flow
// allows it; the script makes waiting for the app live (server-sent events and
// a fresh QR frame every second), runs the chip's WebAuthn ceremony, and moves
// on from the done page at once. Texts come from the page (data-* attributes),
// so the script has no language of its own.
(function () {
  'use strict';

  // Done (and cancelled): the page also has <meta http-equiv="refresh">; this
  // replaces the history entry so that Back does not land on it again.
  var onward = document.querySelector('[data-auto-continue]');
  if (onward) {
    location.replace(onward.href);
    return;
  }

  var waitingBox = document.getElementById('waiting');
  if (waitingBox) {
    waitForApp(waitingBox);
  }

  var chipForm = document.getElementById('chip-form');
  if (chipForm) {
    useChip(chipForm);
  }

  function waitForApp(box) {
    var page = box.getAttribute('data-page');
    var version = box.getAttribute('data-version');
    var status = document.getElementById('status');
    var img = document.getElementById('qr-image');
    var requested = 0;
    var shown = 0;
    var leaving = false;
    if (!window.EventSource) {
      setTimeout(function () { location.replace(page); }, 8000);
      return;
    }
    var events = new EventSource(box.getAttribute('data-events'));

    function leave() {
      if (leaving) { return; }
      leaving = true;
      events.close();
      if (status) { status.textContent = status.getAttribute('data-changed'); }
      location.replace(page);
    }

    // The first "flow" event is the flow as it is now; any other version
    // means it moved on (approved, rejected, expired, another method).
    events.addEventListener('flow', function (e) {
      var view;
      try { view = JSON.parse(e.data); } catch (err) { return; }
      if (String(view.version) !== version || view.state !== 'waiting_for_app') {
        leave();
      }
    });

    // A new frame every second: load it off-screen and swap it in when it
    // has arrived, so the code on screen never flickers or goes blank.
    events.addEventListener('qr', function () {
      if (!img || leaving) { return; }
      var n = ++requested;
      var next = img.cloneNode(false);
      next.onload = function () {
        if (n <= shown || leaving || !img.parentNode) { return; }
        shown = n;
        img.parentNode.replaceChild(next, img);
        img = next;
      };
      next.src = img.getAttribute('data-src') + '?n=' + n;
    });

    // A stream the server refused (the flow is gone) does not reconnect by
    // itself: reload to show what happened. Network errors do reconnect.
    events.onerror = function () {
      if (events.readyState === 2 && !leaving) {
        setTimeout(function () { location.replace(page); }, 3000);
      }
    };
  }

  function useChip(form) {
    var button = form.querySelector('button[type="submit"]');
    var field = form.querySelector('input[name="webauthn"]');
    var region = document.getElementById('chip-error');
    var status = document.getElementById('chip-status');
    var ready = false;

    function show(message) {
      status.textContent = '';
      var box = document.createElement('div');
      box.className = 'alert';
      var p = document.createElement('p');
      var prefix = document.createElement('span');
      prefix.className = 'prefix';
      prefix.textContent = form.getAttribute('data-error-prefix') + ' ';
      p.appendChild(prefix);
      p.appendChild(document.createTextNode(message));
      box.appendChild(p);
      region.textContent = '';
      region.appendChild(box);
      button.disabled = false;
      button.focus();
    }

    form.addEventListener('submit', function (e) {
      if (ready) { return; } // the second submit, carrying the answer
      e.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials || !navigator.credentials.get) {
        show(form.getAttribute('data-msg-unsupported'));
        return;
      }
      var options;
      try {
        options = requestOptions(JSON.parse(form.getAttribute('data-webauthn')).publicKey);
      } catch (err) {
        show(form.getAttribute('data-msg-other'));
        return;
      }
      region.textContent = '';
      status.textContent = form.getAttribute('data-msg-touch');
      button.disabled = true;
      navigator.credentials.get({ publicKey: options }).then(function (credential) {
        field.value = JSON.stringify(credentialJSON(credential));
        ready = true;
        form.submit();
      }, function (err) {
        show(err && err.name === 'NotAllowedError' ? form.getAttribute('data-msg-cancelled') : form.getAttribute('data-msg-other'));
      });
    });
  }

  // The options are JSON with base64url in place of binary members
  // (internal/authenticator/fido); browsers without the JSON helpers get them
  // decoded here.
  function requestOptions(pk) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(pk);
    }
    var o = {};
    for (var k in pk) { if (Object.prototype.hasOwnProperty.call(pk, k)) { o[k] = pk[k]; } }
    o.challenge = fromB64url(pk.challenge);
    if (pk.allowCredentials) {
      o.allowCredentials = pk.allowCredentials.map(function (c) {
        return { type: c.type, id: fromB64url(c.id), transports: c.transports };
      });
    }
    return o;
  }

  function credentialJSON(c) {
    if (typeof c.toJSON === 'function') { return c.toJSON(); }
    var r = c.response;
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || null,
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      },
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
    };
  }

  function fromB64url(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
}());

// Passkeys (WebAuthn) for the login's second step and for adding a passkey on the settings page. The pages work
// without it for everything else (codes); this script only shows the passkey parts when the browser can use them.
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var padded = base64 + "===".slice((base64.length + 3) % 4);
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i += 1) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function credentialJson(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) { out.authenticatorAttachment = credential.authenticatorAttachment; }
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      if (response.getTransports) { out.response.transports = response.getTransports(); }
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      if (response.userHandle) { out.response.userHandle = toBase64url(response.userHandle); }
    }
    return JSON.stringify(out);
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "x-csrftoken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (answer) {
      return answer.json().then(function (data) {
        if (!answer.ok) { throw new Error(data.error || ""); }
        return data;
      });
    });
  }

  function showError(box, text) {
    var error = box.querySelector("#passkey-error");
    error.textContent = text || error.getAttribute("data-default") || "";
    error.hidden = false;
  }

  function setUp(box, ceremony) {
    if (!box || !window.PublicKeyCredential || !navigator.credentials) { return; }
    box.hidden = false;
    var button = box.querySelector("#passkey-button");
    box.querySelector("#passkey-error").setAttribute("data-default", box.getAttribute("data-failed") || "");
    button.addEventListener("click", function () {
      button.disabled = true;
      ceremony(box).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(function (error) {
        button.disabled = false;
        showError(box, error && error.message && error.name === "Error" ? error.message : "");
      });
    });
  }

  function logIn(box) {
    var csrf = box.getAttribute("data-csrf");
    return post(box.getAttribute("data-options"), csrf).then(function (options) {
      options.challenge = toBytes(options.challenge);
      options.allowCredentials = descriptors(options.allowCredentials);
      return navigator.credentials.get({ publicKey: options });
    }).then(function (credential) {
      return post(box.getAttribute("data-verify"), csrf, {
        credential: credentialJson(credential),
        remember: box.querySelector("#passkey-remember").checked,
        next: box.getAttribute("data-next")
      });
    });
  }

  function register(box) {
    var csrf = box.getAttribute("data-csrf");
    return post(box.getAttribute("data-options"), csrf).then(function (options) {
      options.challenge = toBytes(options.challenge);
      options.user.id = toBytes(options.user.id);
      options.excludeCredentials = descriptors(options.excludeCredentials);
      return navigator.credentials.create({ publicKey: options });
    }).then(function (credential) {
      return post(box.getAttribute("data-verify"), csrf, {
        credential: credentialJson(credential),
        label: box.querySelector("#passkey-label").value
      });
    }).then(function (data) {
      if (data.codes && data.codes.length) {
        // New recovery codes are shown once: on this page, before it is reloaded.
        var list = document.createElement("ul");
        list.className = "codes";
        list.id = "passkey-codes";
        data.codes.forEach(function (code) {
          var item = document.createElement("li");
          var text = document.createElement("code");
          text.textContent = code;
          item.appendChild(text);
          list.appendChild(item);
        });
        box.appendChild(list);
        var done = document.createElement("a");
        done.href = data.redirect;
        done.id = "passkey-done";
        done.textContent = box.getAttribute("data-done") || "OK";
        box.appendChild(done);
        box.querySelector("#passkey-button").hidden = true;
        return new Promise(function () {});
      }
      return data;
    });
  }

  setUp(document.getElementById("passkey-login"), logIn);
  setUp(document.getElementById("passkey-register"), register);
}());

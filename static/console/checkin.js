// Check-in on a session's page: scanning a ticket's QR code with the camera where the
// browser has a BarcodeDetector, and the roster's attendance kept current while the page is
// open (another desk may be checking people in). Typing a code works without either.
(function () {
  "use strict";
  var section = document.getElementById("check-in");
  if (!section) return;
  var form = document.getElementById("check-in-form");
  var input = document.getElementById("ticket-code");
  var scan = document.getElementById("scan");
  var camera = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var stream = null;
  var timer = null;

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    camera.hidden = true;
    scan.textContent = scan.getAttribute("data-start");
  }

  function start(detector) {
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        camera.hidden = false;
        video.play();
        scan.textContent = scan.getAttribute("data-stop");
        timer = setInterval(function () {
          detector.detect(video).then(function (found) {
            if (found.length && found[0].rawValue) {
              input.value = found[0].rawValue;
              stop();
              form.submit();
            }
          }).catch(function () {});
        }, 300);
      })
      .catch(function () {
        // No camera, or permission refused: typing still works.
        stop();
        input.focus();
      });
  }

  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) return;
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      scan.hidden = false;
      scan.addEventListener("click", function () {
        if (stream) stop(); else start(detector);
      });
    }).catch(function () {});
  }

  var url = section.getAttribute("data-attendance");
  var word = section.getAttribute("data-attended-word");
  var count = document.getElementById("checked-in-count");
  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (now) {
        if (!now) return;
        count.textContent = count.getAttribute("data-word") + " " + now.attended.length + "/" + now.seated;
        now.attended.forEach(function (id) {
          var row = document.getElementById("e-" + id);
          var badge = row && row.querySelector("[data-status]");
          if (badge && !badge.classList.contains("status-done")) {
            badge.textContent = word;
            badge.className = "badge status-done";
          }
        });
      })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();

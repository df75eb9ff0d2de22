/* Live status (issue 10): every few seconds read GET /bots (session cookie, same origin) and update the status
 * badges in place. The page holds no inline script (CSP): the URL is a data- attribute, the status meanings a
 * json_script block. A badge whose status changes is highlighted for a while. GET /bots may answer 304 to
 * If-None-Match: then nothing changed. */
function startLiveStatus() {
  "use strict";
  var PERIOD_MS = 5000;
  var HIGHLIGHT_MS = 15000;
  var root = document.querySelector("[data-live-status-url]");
  if (!root) { return; }
  var url = root.getAttribute("data-live-status-url");
  var meaningsNode = document.getElementById("status-meanings");
  var meanings = meaningsNode ? JSON.parse(meaningsNode.textContent) : {};
  var indicator = document.querySelector("[data-live-status-indicator]");
  var etag = null;

  function label(status) {
    return status.split("_").map(function (word) { return word.charAt(0).toUpperCase() + word.slice(1); }).join(" ");
  }

  function each(attribute, name, callback) {
    var nodes = document.querySelectorAll("[" + attribute + '="' + CSS.escape(name) + '"]');
    Array.prototype.forEach.call(nodes, callback);
  }

  function apply(bot) {
    each("data-bot-status", bot.id, function (badge) {
      var before = badge.getAttribute("data-status");
      if (before === bot.status) { return; }
      badge.setAttribute("data-status", bot.status);
      badge.className = "status-badge status-" + bot.status + " status-changed";
      badge.textContent = label(bot.status);
      badge.title = (meanings[bot.status] || "") + " (was " + label(before || "unknown") + ")";
      window.setTimeout(function () { badge.classList.remove("status-changed"); }, HIGHLIGHT_MS);
      // The page's buttons were drawn for the old status: offer a reload rather than redraw them here.
      Array.prototype.forEach.call(document.querySelectorAll("[data-live-status-reload]"), function (link) {
        link.hidden = false;
      });
    });
    each("data-bot-meaning", bot.id, function (node) { node.textContent = meanings[bot.status] || ""; });
    if (bot.synced_at) {
      each("data-bot-synced", bot.id, function (node) {
        node.textContent = "at " + new Date(bot.synced_at).toISOString().slice(11, 19) + " UTC";
      });
    }
  }

  function say(text) { if (indicator) { indicator.textContent = text; } }

  function poll() {
    if (document.hidden) { window.setTimeout(poll, PERIOD_MS); return; }
    var headers = { "Accept": "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url, { credentials: "same-origin", headers: headers }).then(function (response) {
      if (response.status === 304) { return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      etag = response.headers.get("ETag");
      return response.json();
    }).then(function (body) {
      if (body) { body.bots.forEach(apply); }
      say("live · checked " + new Date().toISOString().slice(11, 19) + " UTC");
    }).catch(function (error) {
      say("live status unavailable (" + error.message + "); retrying");
    }).then(function () { window.setTimeout(poll, PERIOD_MS); });
  }

  window.setTimeout(poll, PERIOD_MS);
}

// The admin puts Media scripts in <head>: start once the badges exist.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", startLiveStatus);
} else {
  startLiveStatus();
}

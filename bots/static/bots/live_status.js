/* Live status (issues 10, 17): read GET /bots (session cookie, same origin) at least once per status sync and keep
 * the open page true to it without a reload: status badges (a changed one is highlighted for a while, a stale one is
 * marked as the last known), the buttons of a bot's page, the "Hummingbot unreachable" banner per server, and how old
 * the statuses are. The page holds no inline script (CSP): settings are data- attributes, the status meanings a
 * json_script block. Which button goes with which status is decided by the server: each button carries the statuses
 * it is for (data-shown-for). GET /bots may answer 304 to If-None-Match: then nothing changed. */
function startLiveStatus() {
  "use strict";
  var HIGHLIGHT_MS = 15000;
  var root = document.querySelector("[data-live-status-url]");
  if (!root) { return; }
  var url = root.getAttribute("data-live-status-url");
  var periodMs = 1000 * Number(root.getAttribute("data-live-status-seconds") || 5);
  var syncSeconds = Number(root.getAttribute("data-sync-seconds") || 10);
  var meaningsNode = document.getElementById("status-meanings");
  var meanings = meaningsNode ? JSON.parse(meaningsNode.textContent) : {};
  var indicator = document.querySelector("[data-live-status-indicator]");
  var banners = document.querySelector("[data-outage-banners]");
  var etag = null;
  // From the last full answer: when the oldest server's statuses were read (`readAt` on this page's clock, `at` as
  // the server wrote it), and whether a server did not answer its last read.
  var lastRead = null;
  var failing = false;

  function label(status) {
    return status.split("_").map(function (word) { return word.charAt(0).toUpperCase() + word.slice(1); }).join(" ");
  }

  function utc(time) { return new Date(time).toISOString().slice(11, 19) + " UTC"; }

  function each(attribute, name, callback) {
    var nodes = document.querySelectorAll("[" + attribute + '="' + CSS.escape(name) + '"]');
    Array.prototype.forEach.call(nodes, callback);
  }

  function apply(bot) {
    each("data-bot-status", bot.id, function (badge) {
      badge.classList.toggle("status-stale", Boolean(bot.stale));
      var before = badge.getAttribute("data-status");
      if (before === bot.status) { return; }
      badge.setAttribute("data-status", bot.status);
      badge.classList.remove("status-" + before);
      badge.classList.add("status-" + bot.status, "status-changed");
      badge.textContent = label(bot.status);
      badge.title = (meanings[bot.status] || "") + " (was " + label(before || "unknown") + ")";
      window.setTimeout(function () { badge.classList.remove("status-changed"); }, HIGHLIGHT_MS);
    });
    each("data-buttons-of", bot.id, function (item) {
      item.hidden = item.getAttribute("data-shown-for").split(" ").indexOf(bot.status) === -1;
    });
    each("data-bot-meaning", bot.id, function (node) { node.textContent = meanings[bot.status] || ""; });
    if (bot.synced_at) {
      each("data-bot-synced", bot.id, function (node) { node.textContent = "at " + utc(bot.synced_at); });
    }
  }

  // One banner line per server that did not answer its last status read; the server drew those of the page's load.
  function showOutages(servers) {
    if (!banners) { return; }
    var list = banners.querySelector("ul");
    Array.prototype.forEach.call(banners.querySelectorAll("[data-outage-server]"), function (item) {
      var server = servers[item.getAttribute("data-outage-server")];
      if (!server || server.ok) { item.remove(); }
    });
    Object.keys(servers).sort().forEach(function (name) {
      var server = servers[name];
      if (server.ok || banners.querySelector('[data-outage-server="' + CSS.escape(name) + '"]')) { return; }
      if (!list) {
        list = document.createElement("ul");
        list.className = "messagelist";
        banners.appendChild(list);
      }
      var item = document.createElement("li");
      item.className = "error";
      item.setAttribute("data-outage-server", name);
      item.textContent = "Hummingbot API unreachable" +
        (server.synced_at ? " (last answered at " + utc(server.synced_at) + ")" : "") + ": " + server.error +
        " — statuses shown for its bots are the last known ones.";
      list.appendChild(item);
    });
    if (list && !list.children.length) { list.remove(); }
  }

  // "live · checked …" and, when a server did not answer or the statuses are older than two syncs, how old they are.
  function freshness() {
    var text = "live · checked " + utc(Date.now());
    if (lastRead === null) { return text + " · statuses never read from Hummingbot"; }
    var age = Math.round((Date.now() - lastRead.readAt) / 1000);
    if (!failing && age <= 2 * syncSeconds) { return text; }
    var old = age < 120 ? age + " s" : age < 7200 ? Math.round(age / 60) + " min" : Math.round(age / 3600) + " h";
    return text + " · statuses " + old + " old (last read " + utc(lastRead.at) + ")";
  }

  function say(text) { if (indicator) { indicator.textContent = text; } }

  function read(body) {
    body.bots.forEach(apply);
    var servers = body.servers || {};
    showOutages(servers);
    failing = Object.keys(servers).some(function (name) { return !servers[name].ok; });
    // The age from age_seconds, not synced_at: this page's clock need not agree with the server's.
    lastRead = body.synced_at ? { readAt: Date.now() - 1000 * body.age_seconds, at: body.synced_at } : null;
  }

  function poll() {
    if (document.hidden) { window.setTimeout(poll, periodMs); return; }
    var headers = { "Accept": "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url, { credentials: "same-origin", headers: headers }).then(function (response) {
      if (response.status === 304) { return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      etag = response.headers.get("ETag");
      return response.json();
    }).then(function (body) {
      if (body) { read(body); }
      say(freshness());
    }).catch(function (error) {
      say("live status unavailable (" + error.message + "); retrying");
    }).then(function () { window.setTimeout(poll, periodMs); });
  }

  window.setTimeout(poll, periodMs);
}

// The admin puts Media scripts in <head>: start once the badges exist.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", startLiveStatus);
} else {
  startLiveStatus();
}

// Keeps the server-rendered "31 h 12 min left" countdowns current without a reload. Optional: the page works without it.
(function () {
  function words(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000), days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60, parts = [];
    if (days >= 4) { parts.push(days + " d"); } else { hours += days * 24; }
    if (hours) { parts.push(hours + " h"); }
    parts.push(mins + " min");
    return parts.join(" ");
  }
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - Date.now();
      if (isNaN(left)) { return; }
      el.textContent = left < 0 ? "overdue by " + words(left) : words(left) + " left";
      el.classList.toggle("overdue", left < 0);
    });
  }
  setInterval(tick, 30000);
})();

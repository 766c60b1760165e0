// Draws the insights charts from the JSON the page embeds; the tables beside each
// chart carry the same numbers for anyone who cannot see the canvas.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var locale = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(locale, { style: "currency", currency: data.currency });
  var numbers = function (values) { return values.map(Number); };
  var axis = { ticks: { callback: function (v) { return money.format(v); } } };

  new Chart(document.getElementById("aging-chart"), {
    type: "bar",
    data: {
      labels: data.aging.labels,
      datasets: [{ label: "Open receivables", data: numbers(data.aging.values),
                   backgroundColor: ["#2f7d5b", "#e0b43a", "#e08a3a", "#d0643a", "#b8432f", "#7f2a22"] }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: axis }, animation: false }
  });

  new Chart(document.getElementById("referral-chart"), {
    type: "bar",
    data: {
      labels: data.referrals.labels,
      datasets: [
        { label: "Referred", data: numbers(data.referrals.referred), backgroundColor: "#3b5b92" },
        { label: "Collected", data: numbers(data.referrals.collected), backgroundColor: "#2f7d5b" }
      ]
    },
    options: { scales: { y: axis }, animation: false }
  });
})();

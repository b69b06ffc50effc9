"use strict";
// The report's filters: a year (every part that depends on one) and a county (its rows in the tables,
// its column in the charts). Everything is already in the page; this only shows and hides it.
(function () {
  var year = document.getElementById("filter-year");
  var county = document.getElementById("filter-county");
  var status = document.getElementById("filter-status");
  function apply() {
    var y = year.value, c = county.value;
    document.querySelectorAll(".by-year[data-year]").forEach(function (el) {
      el.hidden = el.getAttribute("data-year") !== y;
    });
    document.querySelectorAll("tr[data-county]").forEach(function (el) {
      el.hidden = c !== "" && el.getAttribute("data-county") !== c;
    });
    document.querySelectorAll("svg .bar[data-county]").forEach(function (el) {
      el.classList.toggle("dim", c !== "" && el.getAttribute("data-county") !== c);
      el.classList.toggle("chosen", c !== "" && el.getAttribute("data-county") === c);
    });
    document.querySelectorAll("details.county-table").forEach(function (el) { el.open = c !== ""; });
    document.querySelectorAll(".year-label").forEach(function (el) { el.textContent = y; });
    status.textContent = c === ""
      ? "显示 " + y + " 年, 全部县 · showing " + y + ", every county"
      : "显示 " + y + " 年, " + county.options[county.selectedIndex].text
        + " · tables list this county only, charts mark its column; a CSV file holds every county of its table";
  }
  year.addEventListener("change", apply);
  county.addEventListener("change", apply);
  document.getElementById("filters").hidden = false;
  apply();
})();

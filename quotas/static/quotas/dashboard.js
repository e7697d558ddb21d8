(function () {
  "use strict";
  const el = document.getElementById("dashboard-data");
  if (!el || typeof Chart === "undefined") return;
  const data = JSON.parse(el.textContent);
  const red = "#b71c1c", gold = "#f9a825", blue = "#1565c0", green = "#2e7d32", grey = "#9e9e9e";
  const palette = [red, blue, gold, green, "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#c2185b", "#455a64", "#7cb342", "#3949ab", grey];
  const nf = new Intl.NumberFormat("vi-VN");
  Chart.defaults.font.family = "system-ui, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.animation = false; // figures, not a show: printed and screenshotted pages must be complete
  Chart.defaults.maintainAspectRatio = false;
  function make(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }
  make("chart-children", {
    type: "bar",
    data: {
      labels: data.children.labels,
      datasets: [
        { label: "Chỉ tiêu", data: data.children.quota, backgroundColor: grey },
        { label: "Đã kết nạp", data: data.children.admitted, backgroundColor: red },
      ],
    },
    options: { indexAxis: "y", plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + nf.format(c.raw) } } } },
  });
  make("chart-trend", {
    type: "line",
    data: {
      labels: data.trend.labels,
      datasets: [
        { label: "Chỉ tiêu kết nạp", data: data.trend.quota, borderColor: grey, borderDash: [6, 4] },
        { label: "Kết nạp", data: data.trend.admitted, borderColor: red, backgroundColor: red },
        { label: "Công nhận chính thức", data: data.trend.recognized, borderColor: blue, backgroundColor: blue },
        { label: "Tạo nguồn", data: data.trend.sources, borderColor: gold, backgroundColor: gold },
      ],
    },
  });
  make("chart-funnel", {
    type: "bar",
    data: { labels: data.funnel.labels, datasets: [{ label: "Số người", data: data.funnel.values, backgroundColor: red }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
  for (const ch of data.breakdowns) {
    if (!ch.values.length) continue;
    const pie = ch.labels.length <= 3;
    make(ch.id, {
      type: pie ? "doughnut" : "bar",
      data: { labels: ch.labels, datasets: [{ label: "Số người", data: ch.values, backgroundColor: pie ? palette : red }] },
      // Every category named: Chart.js would otherwise skip every other label of a long list (13 sectors).
      options: pie ? {} : { indexAxis: "y", plugins: { legend: { display: false } }, scales: { y: { ticks: { autoSkip: false } } } },
    });
  }
})();

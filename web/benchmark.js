// SPDX-License-Identifier: MIT
// The benchmark page: draws the JSON that `imgbus bench` PUTs to /api/benchmarks/latest (or a
// file the user opens) with the same panels as the PNG.
"use strict";

const REPORT_FORMAT = "imgbus-bench/1";
const COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#666666"];
const charts = {};

function setStatus(text) {
    document.getElementById("bench-status").textContent = text;
}

function seriesOf(report) {
    return report.settings.thread_counts.map((threads, index) => ({
        label: `${threads} thread${threads === 1 ? "" : "s"} per job`,
        color: COLORS[index % COLORS.length],
        steps: report.steps.filter((step) => step.threads === threads),
    }));
}

function lineChart(id, title, yTitle, report, pick, skipFailed) {
    const datasets = seriesOf(report).map((series) => ({
        label: series.label,
        borderColor: series.color,
        backgroundColor: series.color,
        data: series.steps
            .filter((step) => !skipFailed || step.succeeded > 0)
            .map((step) => ({ x: step.count, y: pick(step) })),
    }));
    draw(id, {
        type: "line",
        data: { datasets },
        options: axes(title, "requests in the step", yTitle, "linear"),
    });
}

function axes(title, xTitle, yTitle, xType) {
    return {
        responsive: true,
        maintainAspectRatio: false,
        plugins: { title: { display: true, text: title, font: { size: 15 } } },
        scales: {
            x: { type: xType, title: { display: true, text: xTitle } },
            y: { beginAtZero: true, title: { display: true, text: yTitle } },
        },
    };
}

function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(document.getElementById(id), config);
}

function breakdownChart(report) {
    const labels = report.steps.map((step) =>
        report.settings.thread_sweep ? `n=${step.count}, ${step.threads} thr` : `n=${step.count}`);
    const bar = (label, color, pick) => ({
        label, backgroundColor: color, data: report.steps.map((step) => pick(step.server)),
    });
    draw("chart-breakdown", {
        type: "bar",
        data: {
            labels,
            datasets: [
                bar("queue wait", COLORS[4], (s) => s.queue_wait_ms_avg),
                bar("processing (kernel)", COLORS[2], (s) => s.process_ms_avg),
                bar("total (upload to done)", COLORS[5], (s) => s.total_ms_avg),
            ],
        },
        options: axes("Server-side breakdown per step (/metrics deltas)", "step",
            "mean per job (ms)", "category"),
    });
}

function speedupChart(report) {
    const box = document.getElementById("speedup-box");
    box.hidden = report.speedup.length === 0;
    if (box.hidden) return;
    const base = report.speedup[0].threads;
    draw("chart-speedup", {
        type: "line",
        data: {
            datasets: [
                {
                    label: "measured",
                    borderColor: COLORS[0],
                    backgroundColor: COLORS[0],
                    data: report.speedup.filter((p) => p.kernel_ms_avg > 0)
                        .map((p) => ({ x: p.threads, y: p.speedup, kernel: p.kernel_ms_avg })),
                },
                {
                    label: "ideal (linear)",
                    borderColor: "#888888",
                    borderDash: [6, 4],
                    pointRadius: 0,
                    data: report.speedup.map((p) => ({ x: p.threads, y: p.threads / base })),
                },
            ],
        },
        options: axes(`OpenMP speed-up of the kernel (vs ${base} thread${base === 1 ? "" : "s"})`,
            "OpenMP threads per job", "speed-up (x)", "linear"),
    });
}

function showSettings(report) {
    const list = document.getElementById("bench-settings");
    list.replaceChildren();
    const s = report.settings;
    const entries = [
        ["generated", report.generated_at], ["server", report.url], ["image", report.image],
        ["operation", `${s.op}, ${s.passes} pass(es)`], ["concurrency", String(s.concurrency)],
        ["delay", `${s.delay_seconds} s`], ["safer mode", s.safer ? "yes" : "no"],
    ];
    for (const [name, value] of entries) {
        const term = document.createElement("dt");
        term.textContent = name;
        const detail = document.createElement("dd");
        detail.textContent = value;
        list.append(term, detail);
    }
}

function showTable(report) {
    const body = document.querySelector("#bench-table tbody");
    body.replaceChildren();
    const fixed = (value, digits) => Number(value || 0).toFixed(digits);
    for (const step of report.steps) {
        const failures = Object.entries(step.failures || {}).map(([k, v]) => `${k}: ${v}`).join(", ");
        const cells = [step.threads, step.count, step.succeeded, fixed(step.latency_ms.avg, 1),
            fixed(step.latency_ms.p95, 1), fixed(step.latency_ms.p99, 1),
            fixed(step.throughput_jobs_per_second, 2), fixed(step.kernel_ms_avg, 2),
            fixed(step.server.queue_wait_ms_avg, 1), fixed(step.server.process_ms_avg, 2),
            fixed(step.server.total_ms_avg, 1), failures || "none"];
        const row = document.createElement("tr");
        for (const cell of cells) {
            const td = document.createElement("td");
            td.textContent = String(cell);
            row.append(td);
        }
        body.append(row);
    }
}

function show(report, source) {
    if (!report || report.format !== REPORT_FORMAT || !Array.isArray(report.steps)) {
        setStatus(`${source} is not a report of imgbus bench (format ${REPORT_FORMAT}).`);
        return;
    }
    setStatus(`${report.steps.length} steps from ${source}.`);
    showSettings(report);
    lineChart("chart-avg", "Average latency", "latency (ms)", report, (s) => s.latency_ms.avg, true);
    lineChart("chart-p95", "p95 latency", "latency (ms)", report, (s) => s.latency_ms.p95, true);
    lineChart("chart-throughput", "Throughput", "completed jobs per second (req/s)", report,
        (s) => s.throughput_jobs_per_second, false);
    breakdownChart(report);
    speedupChart(report);
    showTable(report);
}

async function loadLatest() {
    try {
        const response = await fetch("/api/benchmarks/latest", { cache: "no-cache" });
        const body = await response.json();
        if (!response.ok) {
            setStatus(body.message || `GET /api/benchmarks/latest answered ${response.status}.`);
            return;
        }
        show(body, "the last run sent to this server");
    } catch (error) {
        setStatus(`Cannot load the last benchmark: ${error.message}. Open a JSON file instead.`);
    }
}

function loadFile(event) {
    const file = event.target.files[0];
    if (!file) return;
    file.text().then((text) => {
        try {
            show(JSON.parse(text), file.name);
        } catch (error) {
            setStatus(`${file.name} is not valid JSON: ${error.message}`);
        }
    });
}

document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("bench-file").addEventListener("change", loadFile);
    loadLatest();
});

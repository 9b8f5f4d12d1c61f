// SPDX-License-Identifier: MIT
// The two thread-scaling charts: time per thread count (kernel and whole job, mean with the
// min-max spread over runs) and speed-up relative to 1 thread with the ideal line.
'use strict';

const COLORS = { kernel: '#1f5fbf', total: '#c2410c', ideal: '#6b7280' };

// Draws a vertical bar from the fastest to the slowest run at each point of the datasets that
// carry `spread: true` and points of the shape {x, y, min, max}.
const spreadPlugin = {
    id: 'imgbusSpread',
    afterDatasetsDraw(chart) {
        const context = chart.ctx;
        chart.data.datasets.forEach((dataset, index) => {
            if (!dataset.spread || !chart.isDatasetVisible(index)) {
                return;
            }
            const scale = chart.scales[dataset.yAxisID];
            context.save();
            context.strokeStyle = dataset.borderColor;
            context.lineWidth = 1.5;
            chart.getDatasetMeta(index).data.forEach((point, i) => {
                const value = dataset.data[i];
                if (!value || typeof value.min !== 'number') {
                    return;
                }
                const x = point.x;
                const top = scale.getPixelForValue(value.max);
                const bottom = scale.getPixelForValue(value.min);
                context.beginPath();
                context.moveTo(x, top);
                context.lineTo(x, bottom);
                context.moveTo(x - 4, top);
                context.lineTo(x + 4, top);
                context.moveTo(x - 4, bottom);
                context.lineTo(x + 4, bottom);
                context.stroke();
            });
            context.restore();
        });
    },
};

function summarize(values) {
    const sum = values.reduce((a, b) => a + b, 0);
    return { mean: sum / values.length, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

// Returns [{threads, kernel, total}] over the done jobs, each time summarized over its runs.
function aggregate(jobs) {
    const groups = new Map();
    for (const job of jobs) {
        const timings = job.timings || {};
        if (job.status !== 'done' || typeof timings.kernel_ms !== 'number') {
            continue;
        }
        if (!groups.has(job.threads)) {
            groups.set(job.threads, { kernel: [], total: [] });
        }
        const group = groups.get(job.threads);
        group.kernel.push(timings.kernel_ms);
        if (typeof timings.total_ms === 'number') {
            group.total.push(timings.total_ms);
        }
    }
    return [...groups.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([threads, group]) => ({
            threads,
            kernel: summarize(group.kernel),
            total: group.total.length ? summarize(group.total) : null,
        }));
}

function threadAxis(counts) {
    const largest = counts.length ? Math.max(...counts) : 2;
    return {
        type: 'linear',
        min: 0,
        max: largest + Math.max(0.5, largest * 0.06),
        title: { display: true, text: 'OpenMP threads' },
        grid: { display: false },
        afterBuildTicks: (scale) => {
            scale.ticks = counts.map((value) => ({ value }));
        },
    };
}

function spreadTooltip(item) {
    const point = item.raw;
    if (typeof point.min !== 'number') {
        return `${item.dataset.label}: ${point.y.toFixed(2)}`;
    }
    return `${item.dataset.label}: mean ${formatMs(point.y)} ms, min ${formatMs(point.min)}, ` +
        `max ${formatMs(point.max)} over ${plural(point.n, 'run')}`;
}

// Creates the two empty charts, or returns null when Chart.js is missing.
function createCharts() {
    if (typeof Chart === 'undefined') {
        showError('Chart.js did not load from /vendor/chart.min.js, so the charts are unavailable.');
        return null;
    }
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.animation = false;
    const common = {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true, pointStyleWidth: 18 } } },
    };
    const time = new Chart(byId('chart-time'), {
        type: 'line',
        data: { datasets: [] },
        plugins: [spreadPlugin],
        options: {
            ...common,
            plugins: {
                ...common.plugins,
                title: { display: true, text: 'Execution time per thread count' },
                tooltip: { callbacks: { label: spreadTooltip } },
            },
            scales: {
                x: threadAxis([]),
                kernel: {
                    position: 'left',
                    beginAtZero: true,
                    title: { display: true, text: 'Kernel time (ms)', color: COLORS.kernel },
                    ticks: { color: COLORS.kernel },
                },
                total: {
                    position: 'right',
                    beginAtZero: true,
                    title: { display: true, text: 'Whole job time (ms)', color: COLORS.total },
                    ticks: { color: COLORS.total },
                    grid: { drawOnChartArea: false },
                },
            },
        },
    });
    const speedup = new Chart(byId('chart-speedup'), {
        type: 'line',
        data: { datasets: [] },
        options: {
            ...common,
            plugins: {
                ...common.plugins,
                title: { display: true, text: 'Speed-up relative to 1 thread' },
                tooltip: {
                    callbacks: { label: (item) => `${item.dataset.label}: ${item.raw.y.toFixed(2)}×` },
                },
            },
            scales: {
                x: threadAxis([]),
                y: {
                    beginAtZero: true,
                    title: { display: true, text: 'Speed-up (× faster than 1 thread)' },
                    ticks: { callback: (value) => `${value}×` },
                },
            },
        },
    });
    return { time, speedup };
}

function lineDataset(label, color, axis, data, extra) {
    return {
        label,
        data,
        yAxisID: axis,
        borderColor: color,
        backgroundColor: color,
        pointRadius: 4,
        pointHoverRadius: 6,
        borderWidth: 2,
        ...extra,
    };
}

// Redraws both charts from the done jobs among `jobs`.
function redrawCharts(charts, jobs) {
    if (!charts) {
        return;
    }
    const { time, speedup } = charts;
    const rows = aggregate(jobs);
    const counts = rows.map((row) => row.threads);
    const spreadPoint = (row, key) => ({ x: row.threads, y: row[key].mean, min: row[key].min, max: row[key].max, n: row[key].n });
    const withTotal = rows.filter((row) => row.total);

    time.options.scales.x = threadAxis(counts);
    time.options.scales.kernel.suggestedMax = Math.max(0, ...rows.map((row) => row.kernel.max)) * 1.05;
    time.options.scales.total.suggestedMax = Math.max(0, ...withTotal.map((row) => row.total.max)) * 1.05;
    time.data.datasets = [
        lineDataset('Kernel (left axis)', COLORS.kernel, 'kernel', rows.map((row) => spreadPoint(row, 'kernel')), { spread: true }),
        lineDataset('Whole job, total_ms (right axis)', COLORS.total, 'total',
            withTotal.map((row) => spreadPoint(row, 'total')), { spread: true }),
    ];
    time.update();

    const base = rows.find((row) => row.threads === 1);
    const note = byId('speedup-note');
    speedup.options.scales.x = threadAxis(counts);
    speedup.options.scales.y.suggestedMax = Math.max(2, ...counts) * 1.08;
    if (!base && rows.length) {
        note.hidden = false;
        note.textContent = 'Speed-up is measured against the 1-thread runs: include 1 among the thread counts.';
        speedup.data.datasets = [];
        speedup.update();
        return;
    }
    note.hidden = true;
    const ratio = (row, key) => ({ x: row.threads, y: base[key].mean / row[key].mean });
    speedup.data.datasets = base ? [
        lineDataset('Kernel', COLORS.kernel, 'y', rows.map((row) => ratio(row, 'kernel'))),
        lineDataset('Whole job (total_ms)', COLORS.total, 'y',
            base.total ? withTotal.map((row) => ratio(row, 'total')) : []),
        lineDataset('Ideal (speed-up = threads)', COLORS.ideal, 'y', counts.map((count) => ({ x: count, y: count })),
            { borderDash: [6, 4], pointRadius: 0, pointStyle: 'line', borderWidth: 1.5 }),
    ] : [];
    speedup.update();
}


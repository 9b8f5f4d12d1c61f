// SPDX-License-Identifier: MIT
// The queue panel: depth, consumers and message rates of the broker queues from /api/ui/queues,
// the read-only copy of /api/queues that needs no management credentials.
'use strict';

const QUEUE_REFRESH_MS = 2000;
const JOB_QUEUE = 'imgbus.jobs';

// The imgbus.jobs counters of the previous refresh, for rates when the server sends none.
let previousQueueSample = null;

function queueRate(current, previous, key) {
    if (!previous) {
        return null;
    }
    const stats = current.stats || {};
    const details = stats[`${key}_details`];
    if (details && typeof details.rate === 'number') {
        return details.rate;
    }
    const seconds = (current.at - previous.at) / 1000;
    const before = (previous.stats || {})[key];
    if (typeof stats[key] !== 'number' || typeof before !== 'number' || seconds <= 0) {
        return null;
    }
    return Math.max(0, (stats[key] - before) / seconds);
}

// Orders imgbus.jobs first and the other queues by name.
function compareQueues(a, b) {
    if (a.name === JOB_QUEUE || b.name === JOB_QUEUE) {
        return (b.name === JOB_QUEUE) - (a.name === JOB_QUEUE);
    }
    return a.name.localeCompare(b.name);
}

function renderQueues(queues) {
    const panel = byId('queue-panel');
    const sorted = [...queues].sort(compareQueues);
    const table = document.createElement('table');
    const caption = table.createCaption();
    caption.className = 'visually-hidden';
    caption.textContent = 'Queue depth and consumers';
    const head = table.createTHead().insertRow();
    for (const title of ['Queue', 'Ready', 'Unacked', 'Consumers']) {
        const th = document.createElement('th');
        th.scope = 'col';
        th.textContent = title;
        if (title !== 'Queue') {
            th.className = 'num';
        }
        head.append(th);
    }
    const body = table.createTBody();
    for (const queue of sorted) {
        const row = body.insertRow();
        row.dataset.queue = queue.name;
        const name = document.createElement('th');
        name.scope = 'row';
        // Let long names such as imgbus.events wrap after a dot rather than widen the panel.
        queue.name.split('.').forEach((part, index) => {
            if (index > 0) {
                name.append('.', document.createElement('wbr'));
            }
            name.append(part);
        });
        row.append(name);
        for (const value of [queue.messages_ready, queue.messages_unacknowledged, queue.consumers]) {
            const cell = row.insertCell();
            cell.className = 'num';
            cell.textContent = value === undefined ? '–' : String(value);
        }
    }

    const jobs = queues.find((queue) => queue.name === JOB_QUEUE);
    const sample = jobs ? { at: Date.now(), stats: jobs.message_stats || {} } : null;
    const line = document.createElement('p');
    line.className = 'hint';
    if (sample) {
        const stats = sample.stats;
        const publish = queueRate(sample, previousQueueSample, 'publish');
        const ack = queueRate(sample, previousQueueSample, 'ack');
        const rates = publish === null ? '' : ` Now ${publish.toFixed(1)} published/s, ${(ack || 0).toFixed(1)} acked/s.`;
        line.textContent = `${JOB_QUEUE} totals: ${stats.publish || 0} published, ${stats.ack || 0} acked, ` +
            `${stats.redeliver || 0} redelivered.${rates}`;
    } else {
        line.textContent = `The server reports no ${JOB_QUEUE} queue.`;
    }
    previousQueueSample = sample;
    panel.replaceChildren(table, line);
}

async function refreshQueues() {
    if (document.hidden) {
        return;
    }
    try {
        renderQueues(await fetchJson('/api/ui/queues'));
    } catch (err) {
        const panel = byId('queue-panel');
        const line = document.createElement('p');
        line.className = 'hint stale';
        line.textContent = `Queue statistics unavailable: ${describeError(err)}`;
        panel.replaceChildren(line);
    }
}


function startQueuePanel() {
    refreshQueues();
    setInterval(refreshQueues, QUEUE_REFRESH_MS);
}

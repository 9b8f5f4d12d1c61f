// SPDX-License-Identifier: MIT
// The imgbus web UI: uploads an image as a batch of jobs (one per thread count and run), follows
// the jobs over server-sent events, and charts kernel and whole-job time per OpenMP thread count.
'use strict';

const BASE_THREAD_COUNTS = [1, 2, 4, 6];
const LARGER_THREAD_COUNTS = [8, 12, 16, 24, 32, 48, 64, 96, 128];
const POLL_INTERVAL_MS = 1000;
const STATUS_ORDER = { queued: 0, processing: 1, done: 2, failed: 2 };

const state = {
    config: null,
    operations: [],
    file: null,
    previewUrl: null,
    batch: null,
    input: null,
    jobs: new Map(),
    events: null,
    pollTimer: null,
    updateMode: '',
    charts: null,
    redrawPending: false,
};

// ---------------------------------------------------------------------------------------------
// Server configuration and the form

function threadChoices(config) {
    const hardware = config.hardware_threads || 1;
    const limit = (config.limits && config.limits.max_threads_per_job) || Infinity;
    const counts = new Set(BASE_THREAD_COUNTS);
    for (const count of LARGER_THREAD_COUNTS) {
        if (count <= hardware) {
            counts.add(count);
        }
    }
    counts.add(hardware);
    return [...counts].filter((count) => count <= limit).sort((a, b) => a - b);
}

function buildThreadOptions(config) {
    const container = byId('threads-options');
    container.replaceChildren();
    const hardware = config.hardware_threads || 1;
    for (const count of threadChoices(config)) {
        const label = document.createElement('label');
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.id = `threads-${count}`;
        box.value = String(count);
        box.checked = BASE_THREAD_COUNTS.includes(count) && count <= Math.max(hardware, 2);
        label.append(box, ` ${count}`);
        container.append(label);
    }
    const limit = config.limits && config.limits.max_threads_per_job;
    byId('threads-hint').textContent =
        `The server has ${plural(hardware, 'hardware thread')}; more threads than that share ` +
        `the cores.` + (limit ? ` Each count must be between 1 and ${limit}.` : '');
}

function applyLimits(config) {
    const limits = config.limits || {};
    if (limits.max_runs) {
        byId('runs').max = String(limits.max_runs);
    }
    if (limits.max_passes) {
        byId('passes').max = String(limits.max_passes);
    }
    if (config.version) {
        const workers = config.workers === undefined ? '' : `, ${plural(config.workers, 'worker')}`;
        byId('server-info').textContent =
            `imgbus ${config.version} on ${plural(config.hardware_threads || 1, 'hardware thread')}${workers}`;
    }
}

function buildOperations(operations) {
    const select = byId('op');
    select.replaceChildren();
    for (const operation of operations) {
        const option = document.createElement('option');
        option.value = operation.name;
        option.textContent = operation.name;
        select.append(option);
    }
    // The list is alphabetical; grayscale is the operation the page is about, so it starts there.
    if (operations.some((operation) => operation.name === 'grayscale')) select.value = 'grayscale';
    select.addEventListener('change', renderOperationParams);
    renderOperationParams();
}

function selectedOperation() {
    return state.operations.find((operation) => operation.name === byId('op').value);
}

// A <select> of the words of a choice parameter, the default chosen.
function choiceInput(param) {
    const select = document.createElement('select');
    select.id = `param-${param.name}`;
    select.name = param.name;
    for (const choice of param.choices || []) {
        const option = document.createElement('option');
        option.value = choice;
        option.textContent = choice;
        option.selected = choice === param.default;
        select.append(option);
    }
    return select;
}

function paramInput(param) {
    if (param.type === 'choice') {
        return choiceInput(param);
    }
    const input = document.createElement('input');
    input.id = `param-${param.name}`;
    input.name = param.name;
    const type = String(param.type || '').toLowerCase();
    if (type === 'bool' || type === 'boolean') {
        input.type = 'checkbox';
        input.checked = Boolean(param.default);
        return input;
    }
    if (['int', 'integer', 'float', 'double', 'number'].includes(type)) {
        input.type = 'number';
        input.step = type === 'int' || type === 'integer' ? '1' : 'any';
        if (param.min !== undefined && param.min !== null) {
            input.min = String(param.min);
        }
        if (param.max !== undefined && param.max !== null) {
            input.max = String(param.max);
        }
    } else {
        input.type = 'text';
    }
    if (param.default !== undefined && param.default !== null) {
        input.value = String(param.default);
    }
    return input;
}

function renderOperationParams() {
    const operation = selectedOperation();
    byId('op-description').textContent = operation ? operation.description || '' : '';
    const list = byId('op-params-list');
    list.replaceChildren();
    const params = (operation && operation.params) || [];
    byId('op-params').hidden = params.length === 0;
    for (const param of params) {
        const field = document.createElement('div');
        field.className = 'field';
        const label = document.createElement('label');
        label.htmlFor = `param-${param.name}`;
        label.textContent = param.name;
        const input = paramInput(param);
        field.append(label, input);
        const range = param.type === 'choice' ? ''
            : param.min !== undefined && param.max !== undefined ? ` (${param.min} to ${param.max})` : '';
        if (param.description || range) {
            const hint = document.createElement('p');
            hint.className = 'hint';
            hint.id = `param-${param.name}-hint`;
            hint.textContent = `${param.description || ''}${range}`;
            input.setAttribute('aria-describedby', hint.id);
            field.append(hint);
        }
        list.append(field);
    }
}

// A form value the user must correct. `field` is the input to focus.
class FormError extends Error {
    constructor(field, message) {
        super(message);
        this.field = field;
    }
}

function readInteger(id, name, min, max) {
    const input = byId(id);
    const text = input.value.trim();
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
        throw new FormError(input, `${name} must be a whole number from ${min} to ${max}, not "${text}".`);
    }
    return value;
}

function readThreadCounts() {
    const limit = (state.config && state.config.limits && state.config.limits.max_threads_per_job) || 1024;
    const counts = new Set();
    for (const box of byId('threads-options').querySelectorAll('input[type=checkbox]')) {
        if (box.checked) {
            counts.add(Number(box.value));
        }
    }
    const custom = byId('threads-custom');
    for (const item of custom.value.split(/[\s,;]+/).filter(Boolean)) {
        const value = Number(item);
        if (!/^\d+$/.test(item) || value < 1 || value > limit) {
            throw new FormError(custom, `Thread count "${item}" is invalid: use whole numbers from 1 to ${limit}.`);
        }
        counts.add(value);
    }
    if (counts.size === 0) {
        throw new FormError(byId('threads-1') || custom, 'Choose at least one thread count.');
    }
    return [...counts].sort((a, b) => a - b);
}

function readForm() {
    const limits = (state.config && state.config.limits) || {};
    if (!state.file) {
        throw new FormError(byId('file-input'), 'Choose an image first, with the file picker or by dropping it.');
    }
    if (limits.max_upload_bytes && state.file.size > limits.max_upload_bytes) {
        throw new FormError(byId('file-input'),
            `The file is ${formatBytes(state.file.size)} but the server accepts at most ` +
            `${formatBytes(limits.max_upload_bytes)}.`);
    }
    const threads = readThreadCounts();
    const runs = readInteger('runs', 'Runs', 1, limits.max_runs || 1000);
    const passes = readInteger('passes', 'Passes', 1, limits.max_passes || 100000);
    const maxJobs = limits.max_jobs_per_upload;
    if (maxJobs && threads.length * runs > maxJobs) {
        throw new FormError(byId('runs'),
            `${threads.length} thread counts × ${runs} runs make ${threads.length * runs} jobs, ` +
            `but one upload may create at most ${maxJobs}.`);
    }
    return { threads, runs, passes };
}

function markInvalid(field) {
    for (const input of document.querySelectorAll('[aria-invalid="true"]')) {
        input.removeAttribute('aria-invalid');
    }
    if (field) {
        field.setAttribute('aria-invalid', 'true');
        field.focus();
    }
}

async function submitBatch(event) {
    event.preventDefault();
    clearError();
    let request;
    try {
        request = readForm();
        markInvalid(null);
    } catch (err) {
        if (!(err instanceof FormError)) {
            throw err;
        }
        markInvalid(err.field);
        showError(err.message);
        return;
    }

    const data = new FormData();
    data.append('image', state.file, state.file.name);
    // A pipeline carries its parameters in its steps; the server validates every step.
    const pipeline = byId('pipeline') ? byId('pipeline').value.trim() : '';
    data.append('op', pipeline || byId('op').value || 'grayscale');
    data.append('threads', request.threads.join(','));
    data.append('runs', String(request.runs));
    data.append('passes', String(request.passes));
    // The charts compare thread counts, so every job takes the whole-image path, whose OpenMP
    // kernel uses the threads; the streaming paths would ignore them (docs/imaging.md).
    data.append('path', 'whole-image');
    if (!pipeline) {
        for (const input of byId('op-params-list').querySelectorAll('input, select')) {
            data.append(input.name, input.type === 'checkbox' ? String(input.checked) : input.value);
        }
    }

    const button = byId('submit');
    button.disabled = true;
    button.textContent = 'Uploading…';
    try {
        const reply = await fetchJson('/api/jobs', { method: 'POST', body: data });
        startBatch(reply);
    } catch (err) {
        showError('Upload rejected', err);
    } finally {
        button.disabled = false;
        button.textContent = 'Submit';
    }
}

// ---------------------------------------------------------------------------------------------
// File choice and preview

function setFile(file) {
    if (!file) {
        return;
    }
    clearError();
    state.file = file;
    byId('file-name').textContent = `${file.name}, ${formatBytes(file.size)}`;
    if (state.previewUrl) {
        URL.revokeObjectURL(state.previewUrl);
    }
    state.previewUrl = URL.createObjectURL(file);
    const image = byId('original-image');
    image.src = state.previewUrl;
    byId('original-caption').textContent = `Original: ${file.name}`;
}

function showOriginal() {
    const image = byId('original-image');
    image.hidden = false;
    byId('original-placeholder').hidden = true;
    const size = `${image.naturalWidth}×${image.naturalHeight}`;
    const name = state.file ? state.file.name : 'uploaded image';
    byId('original-caption').textContent = `Original: ${name}, ${size}`;
}

function originalFailed() {
    const image = byId('original-image');
    image.hidden = true;
    const placeholder = byId('original-placeholder');
    placeholder.hidden = false;
    placeholder.textContent = 'The browser cannot display this file as an image.';
}

function bindUpload() {
    const input = byId('file-input');
    const zone = byId('drop-zone');
    input.addEventListener('change', () => setFile(input.files[0]));

    zone.addEventListener('dragenter', (event) => {
        event.preventDefault();
        zone.classList.add('dragover');
    });
    zone.addEventListener('dragover', (event) => {
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
    });
    zone.addEventListener('dragleave', (event) => {
        if (!zone.contains(event.relatedTarget)) {
            zone.classList.remove('dragover');
        }
    });
    zone.addEventListener('drop', (event) => {
        event.preventDefault();
        zone.classList.remove('dragover');
        const files = event.dataTransfer.files;
        if (files.length > 0) {
            setFile(files[0]);
        }
    });
    // A file dropped beside the zone would otherwise replace the page.
    for (const name of ['dragover', 'drop']) {
        window.addEventListener(name, (event) => event.preventDefault());
    }

    byId('original-image').addEventListener('load', showOriginal);
    byId('original-image').addEventListener('error', originalFailed);
    byId('result-image').addEventListener('load', showResult);
    byId('result-image').addEventListener('error', resultFailed);
    byId('result-threads').addEventListener('change', loadSelectedResult);
}

// ---------------------------------------------------------------------------------------------
// The batch: job table, live updates and result image

// Redraws the charts once per animation frame however many events arrive in it.
function scheduleRedraw() {
    if (state.redrawPending) {
        return;
    }
    state.redrawPending = true;
    requestAnimationFrame(() => {
        state.redrawPending = false;
        redrawCharts(state.charts, state.jobs.values());
    });
}

function startBatch(reply) {
    stopUpdates();
    state.batch = reply.batch;
    state.input = reply.input || null;
    state.jobs = new Map();
    for (const job of reply.jobs || []) {
        state.jobs.set(job.id, { ...job, batch: reply.batch, timings: job.timings || {} });
    }
    resetResult();
    renderTable();
    redrawCharts(state.charts, state.jobs.values());
    if (state.input) {
        const input = state.input;
        byId('original-caption').textContent =
            `Original: ${state.file ? state.file.name : 'upload'}, ${input.width}×${input.height} ` +
            `${(input.format || '').toUpperCase()}, ${formatBytes(input.bytes || 0)}`;
    }
    openEvents(reply.batch);
    updateSummary();
}

function batchFinished() {
    for (const job of state.jobs.values()) {
        if (!(job.status in STATUS_ORDER) || STATUS_ORDER[job.status] < 2) {
            return false;
        }
    }
    return true;
}

// Returns whether `incoming` is older than the job already shown, so a slow poll reply cannot
// undo a newer event.
function isStale(current, incoming) {
    if (!current) {
        return false;
    }
    if (current.updated_at && incoming.updated_at) {
        return incoming.updated_at < current.updated_at;
    }
    return (STATUS_ORDER[incoming.status] || 0) < (STATUS_ORDER[current.status] || 0);
}

function applyJob(job) {
    if (!job || job.batch !== state.batch || !job.id) {
        return;
    }
    const current = state.jobs.get(job.id);
    if (isStale(current, job)) {
        return;
    }
    const merged = { ...current, ...job, timings: job.timings || (current && current.timings) || {} };
    state.jobs.set(job.id, merged);
    if (current) {
        updateRow(merged);
    } else {
        renderTable();
    }
    if (merged.status === 'done') {
        addResultChoice(merged);
    }
    scheduleRedraw();
    updateSummary();
    if (batchFinished()) {
        stopUpdates();
        updateSummary();
    }
}

function openEvents(batch) {
    if (!('EventSource' in window)) {
        startPolling(batch);
        return;
    }
    const source = new EventSource(`/api/events?batch=${encodeURIComponent(batch)}`);
    state.events = source;
    state.updateMode = 'live updates over server-sent events';
    // Jobs can change between the upload reply and the stream opening, so read the batch once.
    source.addEventListener('open', () => refreshBatch(batch));
    source.addEventListener('job', (event) => {
        let job;
        try {
            job = JSON.parse(event.data);
        } catch (err) {
            console.warn('imgbus: ignored an event whose data is not JSON', event.data);
            return;
        }
        applyJob(job);
    });
    source.addEventListener('error', () => {
        if (state.events !== source) {
            return;
        }
        source.close();
        state.events = null;
        if (state.batch === batch && !batchFinished()) {
            startPolling(batch);
        }
    });
}

function startPolling(batch) {
    if (state.pollTimer !== null) {
        return;
    }
    state.updateMode = 'polling every second because the event stream is unavailable';
    updateSummary();
    state.pollTimer = setInterval(() => refreshBatch(batch), POLL_INTERVAL_MS);
    refreshBatch(batch);
}

function stopUpdates() {
    if (state.events) {
        state.events.close();
        state.events = null;
    }
    if (state.pollTimer !== null) {
        clearInterval(state.pollTimer);
        state.pollTimer = null;
    }
}

async function refreshBatch(batch) {
    try {
        const reply = await fetchJson(`/api/batches/${encodeURIComponent(batch)}`);
        if (state.batch !== batch) {
            return;
        }
        for (const job of reply.jobs || []) {
            applyJob({ ...job, batch: job.batch || batch });
        }
    } catch (err) {
        if (err instanceof ApiError && err.status === 404 && state.batch === batch) {
            stopUpdates();
            showError(`Batch ${batch} was not found on the server`, err);
        }
    }
}

function jobOrder(a, b) {
    return a.threads - b.threads || a.run - b.run;
}

function renderTable() {
    const body = byId('jobs-table').tBodies[0];
    body.replaceChildren();
    for (const job of [...state.jobs.values()].sort(jobOrder)) {
        const row = body.insertRow();
        row.dataset.jobId = job.id;
        for (let i = 0; i < 9; ++i) {
            const cell = row.insertCell();
            if (i >= 3 && i <= 7) {
                cell.className = 'num';
            }
        }
        row.cells[8].classList.add('note');
        updateRow(job, row);
    }
}

function updateRow(job, row) {
    const target = row || byId('jobs-table').querySelector(`tr[data-job-id="${CSS.escape(job.id)}"]`);
    if (!target) {
        return;
    }
    const timings = job.timings || {};
    target.dataset.status = job.status;
    const cells = target.cells;
    cells[0].textContent = String(job.threads);
    cells[1].textContent = String(job.run);
    const badge = document.createElement('span');
    badge.className = `status status-${job.status}`;
    badge.textContent = job.status;
    cells[2].replaceChildren(badge);
    cells[3].textContent = formatMs(timings.queue_wait_ms);
    cells[4].textContent = formatMs(timings.decode_ms);
    cells[5].textContent = formatMs(timings.kernel_ms);
    cells[6].textContent = formatMs(timings.encode_ms);
    cells[7].textContent = formatMs(timings.total_ms);
    const notes = [];
    if (job.error) {
        notes.push(job.error);
    }
    if (job.redelivered) {
        notes.push('redelivered: an earlier delivery was not acknowledged');
    }
    cells[8].textContent = notes.join('; ');
}

function updateSummary() {
    const summary = byId('progress-summary');
    if (!state.batch) {
        summary.textContent = 'No batch submitted yet.';
        return;
    }
    const counts = { queued: 0, processing: 0, done: 0, failed: 0 };
    for (const job of state.jobs.values()) {
        counts[job.status] = (counts[job.status] || 0) + 1;
    }
    const total = state.jobs.size;
    const finished = counts.done + counts.failed;
    if (finished === total) {
        summary.textContent = `All ${plural(total, 'job')} finished: ${counts.done} done, ${counts.failed} failed.`;
        return;
    }
    summary.textContent =
        `${finished} of ${plural(total, 'job')} finished (${counts.processing} processing, ` +
        `${counts.queued} queued); ${state.updateMode}.`;
}

function resetResult() {
    const select = byId('result-threads');
    select.replaceChildren(new Option('no finished job yet', ''));
    select.disabled = true;
    const image = byId('result-image');
    image.hidden = true;
    image.removeAttribute('src');
    const placeholder = byId('result-placeholder');
    placeholder.hidden = false;
    placeholder.textContent = 'The processed image appears here when a job is done.';
    byId('result-caption').textContent = 'Processed';
}

// The done job shown for a thread count: its latest run.
function resultJobFor(threads) {
    let chosen = null;
    for (const job of state.jobs.values()) {
        if (job.status === 'done' && job.threads === threads && (!chosen || job.run > chosen.run)) {
            chosen = job;
        }
    }
    return chosen;
}

function addResultChoice(job) {
    const select = byId('result-threads');
    const value = String(job.threads);
    if (![...select.options].some((option) => option.value === value)) {
        const option = new Option(plural(job.threads, 'thread'), value);
        const later = [...select.options].find((other) => other.value && Number(other.value) > job.threads);
        select.add(option, later || null);
    }
    const placeholderOption = [...select.options].find((option) => option.value === '');
    if (placeholderOption) {
        placeholderOption.remove();
        select.disabled = false;
        select.value = value;
        loadSelectedResult();
    }
}

function loadSelectedResult() {
    const threads = Number(byId('result-threads').value);
    const job = resultJobFor(threads);
    if (!job) {
        return;
    }
    const image = byId('result-image');
    image.dataset.jobId = job.id;
    image.src = job.result_url || `/api/jobs/${encodeURIComponent(job.id)}/result`;
    byId('result-caption').textContent = `Processed with ${plural(job.threads, 'thread')}, run ${job.run}`;
}

function showResult() {
    const image = byId('result-image');
    image.hidden = false;
    byId('result-placeholder').hidden = true;
    const job = state.jobs.get(image.dataset.jobId);
    if (job) {
        byId('result-caption').textContent =
            `Processed (${job.op || 'grayscale'}) with ${plural(job.threads, 'thread')}, run ${job.run}: ` +
            `${image.naturalWidth}×${image.naturalHeight}, kernel ${formatMs(job.timings.kernel_ms)} ms`;
    }
}

function resultFailed() {
    const image = byId('result-image');
    if (!image.getAttribute('src')) {
        return;
    }
    image.hidden = true;
    const placeholder = byId('result-placeholder');
    placeholder.hidden = false;
    placeholder.textContent = 'The result image could not be loaded from the server.';
}
// ---------------------------------------------------------------------------------------------
// Start-up

async function init() {
    bindUpload();
    byId('job-form').addEventListener('submit', submitBatch);
    state.charts = createCharts();
    startQueuePanel();

    let config = { hardware_threads: 1, limits: {} };
    let operations = [{ name: 'grayscale', description: '', params: [] }];
    try {
        const replies = await Promise.all([fetchJson('/api/config'), fetchJson('/api/operations')]);
        config = replies[0];
        operations = replies[1].operations || operations;
    } catch (err) {
        showError('Failed to read the server configuration', err);
        byId('server-info').textContent = 'Server configuration unavailable';
    }
    state.config = config;
    state.operations = operations;
    applyLimits(config);
    buildThreadOptions(config);
    buildOperations(operations);
}

init();

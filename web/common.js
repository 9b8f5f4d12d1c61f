// SPDX-License-Identifier: MIT
// Helpers shared by the scripts of the web UI: element lookup, JSON requests with API errors,
// the error box and number formatting.
'use strict';

const byId = (id) => document.getElementById(id);

// An HTTP error reply of the API, carrying the JSON `error` code and `message` when present.
class ApiError extends Error {
    constructor(status, body, text, retryAfter) {
        const message = body && body.message ? body.message : text.trim() || `HTTP ${status}`;
        super(message);
        this.status = status;
        this.code = body && body.error ? body.error : '';
        this.retryAfter = retryAfter;
    }
}

async function fetchJson(url, options) {
    const response = await fetch(url, options);
    const text = await response.text();
    let body = null;
    try {
        body = text ? JSON.parse(text) : null;
    } catch (err) {
        body = null;
    }
    if (!response.ok) {
        throw new ApiError(response.status, body, text, response.headers.get('Retry-After'));
    }
    return body;
}

function describeError(err) {
    if (err instanceof ApiError) {
        const code = err.code ? `, ${err.code}` : '';
        let text = `${err.message} (HTTP ${err.status}${code})`;
        if (err.retryAfter) {
            text += ` Retry in ${err.retryAfter} s.`;
        }
        return text;
    }
    return `${err.message || err}. Check that imgbus serve is running.`;
}

function showError(context, err) {
    const box = byId('error');
    box.textContent = err === undefined ? context : `${context}: ${describeError(err)}`;
    box.hidden = false;
    // The box sits under the Submit button, below the fold of a small laptop screen.
    box.scrollIntoView({ block: 'nearest' });
}

function clearError() {
    const box = byId('error');
    box.textContent = '';
    box.hidden = true;
}

function formatMs(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
        return '–';
    }
    return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function formatBytes(bytes) {
    if (bytes >= 1 << 20) {
        return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
    }
    if (bytes >= 1 << 10) {
        return `${(bytes / (1 << 10)).toFixed(0)} KiB`;
    }
    return `${bytes} B`;
}

function plural(count, word) {
    return `${count} ${word}${count === 1 ? '' : 's'}`;
}


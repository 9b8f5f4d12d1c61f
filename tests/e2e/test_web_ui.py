#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drive the web UI of a real `imgbus serve` with headless Chromium.

Uploads tests/data/test.jpg with 1 and 2 threads and 2 runs, waits for the jobs to finish in
the table, and checks the charts, the processed image, the queue panel and the browser console.
Then uploads a file that is not an image and checks that the server's error message is shown.

Environment: IMGBUS_BIN (the imgbus binary) and IMGBUS_TEST_DATA (the tests/data folder).
IMGBUS_TEST_URL, when set, points the test at a server that is already running instead.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

SCREENSHOT = '/tmp/imgbus-ui.png'
HEALTH_TIMEOUT_S = 20
JOBS_TIMEOUT_S = 90
EXPECTED_SIZE = (1920, 1080)


class TestFailure(Exception):
    pass


def step(message):
    print(f'-- {message}', flush=True)


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_until(description, timeout_s, probe, interval_s=0.25):
    """Call probe() until it returns a true value, and fail after timeout_s seconds."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise TestFailure(f'timed out after {timeout_s} s waiting for {description} (last value: {last!r})')


def http_get(url, timeout_s=10):
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.status, response.headers, response.read()


def post_multipart(url, path):
    """POST one file as the `image` part, as the browser form does, and return (status, JSON body)."""
    boundary = uuid.uuid4().hex
    with open(path, 'rb') as handle:
        data = handle.read()
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            f'filename="{os.path.basename(path)}"\r\nContent-Type: image/jpeg\r\n\r\n').encode()
    body += data + f'\r\n--{boundary}--\r\n'.encode()
    request = urllib.request.Request(url, data=body, method='POST', headers={
        'Content-Type': f'multipart/form-data; boundary={boundary}'})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b'null')


class Server:
    """An `imgbus serve` on a free port of 127.0.0.1 with its own data folder and log file."""

    def __init__(self, binary, workdir):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log_path = os.path.join(workdir, 'server.log')
        self.process = None
        self.command = [binary, 'serve', '--http', f'127.0.0.1:{self.port}',
                        '--data-dir', os.path.join(workdir, 'data'), '--workers', '2']
        # The S3 and AMQP listeners default to fixed ports (9000, 5672), so tests running at
        # once would collide there. Port 0 lets the server pick free ones.
        usage = subprocess.run([binary, 'serve', '--help'], capture_output=True, text=True,
                               timeout=10).stdout
        for listener in ('--s3', '--amqp'):
            if listener in usage:
                self.command += [listener, '127.0.0.1:0']

    def start(self):
        step('starting ' + ' '.join(self.command))
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)

        def healthy():
            if self.process.poll() is not None:
                raise TestFailure(f'imgbus serve exited with status {self.process.returncode}')
            try:
                return http_get(self.url + '/healthz', timeout_s=2)[0] == 200
            except OSError:
                return False

        wait_until('/healthz to answer 200', HEALTH_TIMEOUT_S, healthy)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        step(f'stopping imgbus serve (pid {self.process.pid})')
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            print(f'imgbus serve did not stop within 15 s of SIGTERM; killing pid {self.process.pid}')
            self.process.kill()
            self.process.wait(timeout=10)

    def print_log(self):
        if os.path.exists(self.log_path):
            print(f'---- server log ({self.log_path}) ----')
            with open(self.log_path, errors='replace') as log:
                print(log.read()[-20000:])
            print('---- end of server log ----')


def start_browser(profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for argument in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                     '--disable-quic', '--no-first-run', '--disable-background-networking',
                     '--disable-component-update', '--disable-sync', '--window-size=1440,1000',
                     f'--user-data-dir={profile_dir}']:
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)


def severe_console_entries(driver):
    return [entry for entry in driver.get_log('browser') if entry.get('level') == 'SEVERE']


def choose_threads(driver, counts):
    boxes = driver.find_elements(By.CSS_SELECTOR, '#threads-options input[type=checkbox]')
    check(boxes, 'the form has no thread-count checkboxes')
    for box in boxes:
        if box.is_selected() != (int(box.get_attribute('value')) in counts):
            box.click()
    for count in counts:
        check(driver.find_element(By.ID, f'threads-{count}').is_selected(), f'#threads-{count} is not checked')


def set_number(driver, element_id, value):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(str(value))


def job_rows(driver):
    return driver.execute_script("""
        return [...document.querySelectorAll('#jobs-table tbody tr')].map((row) => ({
            status: row.dataset.status, threads: row.cells[0].textContent,
            run: row.cells[1].textContent, kernel: row.cells[5].textContent,
            total: row.cells[7].textContent, note: row.cells[8].textContent}));""")


def chart_summary(driver, canvas_id):
    return driver.execute_script("""
        const canvas = document.getElementById(arguments[0]);
        const chart = Chart.getChart(canvas);
        return {width: canvas.width, height: canvas.height,
                datasets: chart ? chart.data.datasets.map((d) => ({
                    label: d.label, points: d.data.map((p) => [p.x, p.y])})) : null};""", canvas_id)


def check_chart(summary, name, required_labels):
    check(summary['width'] > 0 and summary['height'] > 0,
          f'{name} canvas has size {summary["width"]}x{summary["height"]}')
    check(summary['datasets'] is not None, f'{name} has no Chart.js instance')
    for word in required_labels:
        matches = [d for d in summary['datasets'] if word.lower() in d['label'].lower()]
        check(matches, f'{name} has no dataset labelled "{word}": {summary["datasets"]}')
        points = {x: y for x, y in matches[0]['points']}
        for threads in (1, 2):
            check(threads in points, f'{name} series "{matches[0]["label"]}" has no point for {threads} threads')
            value = points[threads]
            check(isinstance(value, (int, float)) and value > 0,
                  f'{name} series "{matches[0]["label"]}" at {threads} threads is {value!r}')


def channel_spread(driver, element_id):
    """Return the largest difference between the R, G and B channels over a grid of the pixels of
    the loaded image element `element_id`."""
    return driver.execute_script("""
        const image = document.getElementById(arguments[0]);
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let spread = 0;
        for (let y = 5; y < canvas.height; y += 37) {
            for (let x = 5; x < canvas.width; x += 41) {
                const i = 4 * (y * canvas.width + x);
                spread = Math.max(spread, Math.abs(pixels[i] - pixels[i + 1]),
                                  Math.abs(pixels[i + 1] - pixels[i + 2]));
            }
        }
        return spread;""", element_id)


def save_screenshot(driver):
    height = driver.execute_script(
        'return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)')
    driver.set_window_size(1440, min(max(int(height) + 140, 900), 3000))
    time.sleep(0.5)
    driver.save_screenshot(SCREENSHOT)
    driver.set_window_size(1440, 1000)
    step(f'screenshot saved to {SCREENSHOT}')


def run_good_upload(driver, base_url, data_dir):
    step('loading the page')
    driver.get(base_url + '/')
    wait_until('the thread checkboxes built from /api/config', 15,
               lambda: driver.find_elements(By.ID, 'threads-1') and driver.find_elements(By.ID, 'threads-2'))
    check(driver.execute_script('return typeof Chart') == 'function', 'Chart.js is not loaded')
    check(driver.find_element(By.ID, 'op').get_attribute('value'), 'the operation list is empty')

    step('choosing test.jpg, threads 1 and 2, 2 runs, 1 pass')
    driver.find_element(By.ID, 'file-input').send_keys(os.path.join(data_dir, 'test.jpg'))
    wait_until('the original preview to load', 15, lambda: driver.execute_script(
        'const i = document.getElementById("original-image"); return i.complete && i.naturalWidth > 0'))
    choose_threads(driver, {1, 2})
    set_number(driver, 'runs', 2)
    set_number(driver, 'passes', 1)
    driver.find_element(By.ID, 'submit').click()

    step('waiting for 4 jobs to be done in #jobs-table')

    def all_done():
        rows = job_rows(driver)
        failed = [row for row in rows if row['status'] == 'failed']
        if failed:
            raise TestFailure(f'jobs failed: {failed}')
        if not driver.find_element(By.ID, 'error').is_displayed():
            return len(rows) == 4 and all(row['status'] == 'done' for row in rows) and rows
        raise TestFailure('#error shows: ' + driver.find_element(By.ID, 'error').text)

    rows = wait_until('all jobs done', JOBS_TIMEOUT_S, all_done, interval_s=0.5)
    check(sorted((row['threads'], row['run']) for row in rows) == [('1', '1'), ('1', '2'), ('2', '1'), ('2', '2')],
          f'unexpected job rows: {rows}')
    for row in rows:
        check(row['kernel'] not in ('', '–') and row['total'] not in ('', '–'), f'row without timings: {row}')
    summary = driver.find_element(By.ID, 'progress-summary').text
    check('finished' in summary, f'progress summary does not report the batch as finished: {summary!r}')

    step('checking the charts')
    time.sleep(0.3)  # the charts redraw on the next animation frame
    check_chart(chart_summary(driver, 'chart-time'), '#chart-time', ['kernel', 'job'])
    speedup = chart_summary(driver, 'chart-speedup')
    check_chart(speedup, '#chart-speedup', ['kernel', 'job', 'ideal'])
    kernel = next(d for d in speedup['datasets'] if 'kernel' in d['label'].lower())
    check(abs(dict(kernel['points'])[1] - 1.0) < 1e-9, f'speed-up at 1 thread is not 1: {kernel}')

    step('checking the processed image')
    size = wait_until('#result-image to load', 20, lambda: driver.execute_script("""
        const i = document.getElementById('result-image');
        return i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null;"""))
    check(tuple(size) == EXPECTED_SIZE, f'result image is {size[0]}x{size[1]}, expected 1920x1080')
    check(driver.find_element(By.ID, 'result-image').is_displayed(), '#result-image is not visible')
    original_spread = channel_spread(driver, 'original-image')
    result_spread = channel_spread(driver, 'result-image')
    check(original_spread > 20, f'the original preview is not colourful (channel spread {original_spread})')
    check(result_spread <= 3, f'the result image is not grayscale: R, G and B differ by up to {result_spread}')
    source = driver.find_element(By.ID, 'result-image').get_attribute('src')
    check(source.startswith(base_url + '/'), f'result image comes from elsewhere: {source}')
    status, headers, body = http_get(source)
    check(status == 200, f'GET {source} returned {status}')
    check(headers.get_content_type() == 'image/jpeg', f'result Content-Type is {headers.get("Content-Type")}')
    check(body[:3] == b'\xff\xd8\xff', 'result body is not a JPEG')
    options = driver.execute_script(
        "return [...document.getElementById('result-threads').options].map((o) => o.value)")
    check(options == ['1', '2'], f'result selector offers {options}, expected thread counts 1 and 2')

    step('checking the queue panel')
    wait_until('imgbus.jobs in #queue-panel', 10, lambda: driver.find_elements(
        By.CSS_SELECTOR, '#queue-panel tr[data-queue="imgbus.jobs"]'))

    save_screenshot(driver)
    step('checking the drop zone with a synthetic drop event')
    name = driver.execute_script("""
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array([255, 216, 255])], 'dropped.jpg', {type: 'image/jpeg'}));
        document.getElementById('drop-zone').dispatchEvent(
            new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        return document.getElementById('file-name').textContent;""")
    check('dropped.jpg' in name, f'the drop zone did not take the dropped file: #file-name is {name!r}')

    severe = severe_console_entries(driver)
    check(not severe, f'severe browser console messages: {severe}')


def run_bad_upload(driver, base_url, data_dir):
    path = os.path.join(data_dir, 'hostile', 'not-an-image.jpg')
    step('uploading hostile/not-an-image.jpg')
    status, reply = post_multipart(base_url + '/api/jobs', path)
    check(400 <= status < 500, f'the server accepted not-an-image.jpg with status {status}')
    check(isinstance(reply, dict) and reply.get('message'), f'the 4xx reply has no message: {reply}')

    driver.get(base_url + '/')
    wait_until('the thread checkboxes', 15, lambda: driver.find_elements(By.ID, 'threads-1'))
    driver.get_log('browser')  # discard the messages of the page load
    driver.find_element(By.ID, 'file-input').send_keys(path)
    driver.find_element(By.ID, 'submit').click()
    error = driver.find_element(By.ID, 'error')
    wait_until('#error to become visible', 15, error.is_displayed)
    text = error.text
    check(reply['message'] in text, f'#error shows {text!r}, not the server message {reply["message"]!r}')
    check(str(status) in text, f'#error does not name the HTTP status {status}: {text!r}')
    rows = driver.find_elements(By.CSS_SELECTOR, '#jobs-table tbody tr')
    check(not rows, f'a rejected upload left {len(rows)} rows in the job table')
    unexpected = [entry for entry in severe_console_entries(driver)
                  if '/api/jobs' not in entry.get('message', '')]
    check(not unexpected, f'severe browser console messages after the rejected upload: {unexpected}')


def main():
    data_dir = os.environ.get('IMGBUS_TEST_DATA')
    existing_url = os.environ.get('IMGBUS_TEST_URL')
    binary = os.environ.get('IMGBUS_BIN')
    if not data_dir or not (existing_url or binary):
        print('set IMGBUS_BIN (the imgbus binary) and IMGBUS_TEST_DATA (the tests/data folder)')
        return 2

    for name in ('test.jpg', os.path.join('hostile', 'not-an-image.jpg')):
        if not os.path.isfile(os.path.join(data_dir, name)):
            print(f'{name} not found in IMGBUS_TEST_DATA={data_dir}; point it at the tests/data folder')
            return 2

    workdir = tempfile.mkdtemp(prefix='imgbus-web-ui-')
    server = None
    driver = None
    try:
        if existing_url:
            base_url = existing_url.rstrip('/')
        else:
            server = Server(binary, workdir)
            server.start()
            base_url = server.url
        step('starting headless Chromium')
        driver = start_browser(os.path.join(workdir, 'chromium-profile'))
        driver.set_page_load_timeout(30)
        run_good_upload(driver, base_url, data_dir)
        run_bad_upload(driver, base_url, data_dir)
        step('web UI test passed')
        return 0
    except (TestFailure, WebDriverException, OSError) as err:
        print(f'FAILED: {type(err).__name__}: {err}')
        if driver is not None:
            try:
                driver.save_screenshot(SCREENSHOT)
                print(f'screenshot of the failure: {SCREENSHOT}')
            except WebDriverException:
                pass
        if server is not None:
            server.print_log()
        return 1
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())

# SPDX-License-Identifier: MIT
"""Checks the deployment files in docs/deploy and the commands in docs/deployment.md against the
built binary, so that they do not drift from the flags and variables imgbus reads.

Docker is not used: the compose file is parsed as YAML, the Dockerfile's runtime packages are
compared with the libraries the binary links, and the systemd units go through
`systemd-analyze verify` with their ExecStart pointed at the built binary.
"""
import os
import re
import shutil
import subprocess
import tempfile

import yaml

import imgbus_server
from imgbus_server import Checks, require_environment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(ROOT, "docs", "deploy")
GUIDE = os.path.join(ROOT, "docs", "deployment.md")
UNITS = ("imgbus-serve.service", "imgbus-worker@.service")
# Libraries of every Debian 12 image, debian:12-slim included.
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


def read(path):
    with open(path) as file:
        return file.read()


def help_text(subcommand):
    result = subprocess.run([imgbus_server.IMGBUS_BIN, subcommand, "--help"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"imgbus {subcommand} --help failed: {result.stderr}"
    return result.stdout


def known_flags(subcommand):
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", help_text(subcommand)))


def known_variables():
    return set(re.findall(r"IMGBUS_[A-Z0-9_]+", help_text("serve") + help_text("worker")))


def imgbus_commands(text):
    """Return (subcommand, flags) of each `imgbus serve|worker ...` command in the text,
    joining lines continued with a backslash."""
    commands = []
    joined = re.sub(r"\\\n\s*", " ", text)
    for match in re.finditer(r"imgbus (serve|worker)\b([^\n`]*)", joined):
        commands.append((match.group(1), re.findall(r"(--[a-z][a-z0-9-]*)", match.group(2))))
    return commands


def compose():
    with open(os.path.join(DEPLOY, "docker-compose.yml")) as file:
        return yaml.safe_load(file)


def check_compose_services():
    services = compose()["services"]
    for name in ("rabbitmq", "minio", "frontend", "worker"):
        assert name in services, f"docker-compose.yml has no service {name}"
    assert services["worker"]["deploy"]["replicas"] >= 2, services["worker"]["deploy"]
    assert services["frontend"]["build"]["dockerfile"] == "docs/deploy/Dockerfile", \
        services["frontend"]["build"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), \
                f"service {name} publishes {port} beyond the Docker host's loopback"


def check_compose_commands():
    services = compose()["services"]
    for name in ("frontend", "worker"):
        command = services[name]["command"]
        subcommand, flags = command[0], [arg for arg in command[1:] if arg.startswith("--")]
        unknown = set(flags) - known_flags(subcommand)
        assert not unknown, f"service {name}: imgbus {subcommand} has no flag {sorted(unknown)}"


def check_compose_variables():
    text = read(os.path.join(DEPLOY, "docker-compose.yml"))
    example = read(os.path.join(DEPLOY, "imgbus.env.example"))
    for variable in set(re.findall(r"\$\{([A-Z0-9_]+)", text)):
        assert re.search(rf"^{variable}=", example, re.M), \
            f"${{{variable}}} in docker-compose.yml is missing from imgbus.env.example"
    environment = compose()["x-imgbus-environment"]
    unknown = set(environment) - known_variables()
    assert not unknown, f"imgbus reads no variable {sorted(unknown)}"


def check_guide_commands():
    commands = imgbus_commands(read(GUIDE))
    assert len(commands) >= 5, f"only {len(commands)} imgbus commands found in deployment.md"
    for subcommand, flags in commands:
        unknown = set(flags) - known_flags(subcommand)
        assert not unknown, f"deployment.md: imgbus {subcommand} has no flag {sorted(unknown)}"


def check_guide_variables():
    text = read(GUIDE) + "".join(read(os.path.join(DEPLOY, unit)) for unit in UNITS)
    unknown = set(re.findall(r"IMGBUS_[A-Z0-9_]+", text)) - known_variables()
    assert not unknown, f"deployment.md or a unit names variables imgbus does not read: " \
                        f"{sorted(unknown)}"


def check_units_verify():
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze not found: install Debian's systemd (install-deps.sh --test)"
    with tempfile.TemporaryDirectory() as folder:
        for unit in UNITS:
            text = read(os.path.join(DEPLOY, unit))
            assert "ExecStart=/usr/local/bin/imgbus " in text, f"{unit}: unexpected ExecStart"
            with open(os.path.join(folder, unit), "w") as copy:
                copy.write(text.replace("/usr/local/bin/imgbus", imgbus_server.IMGBUS_BIN))
        for name in ("imgbus-serve.service", "imgbus-worker@test.service"):
            result = subprocess.run([analyze, "verify", name], cwd=folder, capture_output=True,
                                    text=True, timeout=60)
            # verify prints unknown keys and bad values as warnings with exit code 0.
            output = (result.stdout + result.stderr).strip()
            assert result.returncode == 0, f"{name}: systemd-analyze verify failed: {output}"
            assert output == "", f"{name}: systemd-analyze verify reported: {output}"


def check_units_hardened():
    for unit in UNITS:
        settings = dict(line.split("=", 1) for line in read(os.path.join(DEPLOY, unit))
                        .splitlines() if "=" in line and not line.startswith("#"))
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                           ("User", "imgbus"), ("PrivateTmp", "yes")):
            assert settings.get(key) == value, f"{unit}: {key} is {settings.get(key)!r}"
    serve = read(os.path.join(DEPLOY, "imgbus-serve.service"))
    assert "ReadWritePaths=/var/lib/imgbus" in serve, "the data directory is not writable"
    worker = read(os.path.join(DEPLOY, "imgbus-worker@.service"))
    assert "EnvironmentFile=/etc/imgbus/worker.env" in worker, "the worker has no environment file"


def needed_packages():
    """Return the Debian packages of the libraries in the binary's NEEDED entries."""
    dynamic = subprocess.run(["readelf", "-d", imgbus_server.IMGBUS_BIN], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30,
                           check=True).stdout
    packages = {}
    for library in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
        match = re.search(rf"^\s*{re.escape(library)} \(libc6,x86-64\) => (\S+)$", cache, re.M)
        assert match, f"ldconfig does not know {library}"
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(match.group(1))],
                               capture_output=True, text=True, timeout=30)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True,
                                   text=True, timeout=30)
        assert owner.returncode == 0, f"no Debian package owns {match.group(1)}"
        packages[library] = owner.stdout.split(":")[0]
    return packages


def check_dockerfile_packages():
    text = read(os.path.join(DEPLOY, "Dockerfile"))
    runtime = text[text.rindex("FROM "):]
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+|zlib1g|ca-certificates|fonts-[a-z-]+)\b",
                               runtime))
    missing = {library: package for library, package in needed_packages().items()
               if package not in installed | BASE_PACKAGES}
    assert not missing, f"the runtime image lacks the packages of {missing}"


def main():
    require_environment()
    checks = Checks()
    checks.run("compose services", check_compose_services)
    checks.run("compose commands use real flags", check_compose_commands)
    checks.run("compose variables defined", check_compose_variables)
    checks.run("guide commands use real flags", check_guide_commands)
    checks.run("guide variables known", check_guide_variables)
    checks.run("units pass systemd-analyze", check_units_verify)
    checks.run("units hardened", check_units_hardened)
    checks.run("dockerfile installs linked libraries", check_dockerfile_packages)
    checks.finish()


if __name__ == "__main__":
    main()

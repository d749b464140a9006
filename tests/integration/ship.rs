//! Shipping: `--version`, shell completions and the man page, `init`'s
//! workflow at the repository root, the GitHub Action (parsed, and its shell
//! steps run as written), the release workflow, and the shell installer
//! against a loopback server holding a release.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::common::{evalgate, repo, run_sim, shell, suite_file, text};

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The steps of a workflow job or a composite action.
fn steps(v: &Value) -> &Vec<Value> {
    v["steps"].as_sequence().expect("steps")
}

/// The `run:` script of the step with this `id` (or `name`).
fn step_script<'a>(steps: &'a [Value], id: &str) -> &'a str {
    steps
        .iter()
        .find(|s| s["id"].as_str() == Some(id) || s["name"].as_str() == Some(id))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {id} with a run script"))
}

/// Key=value lines a step wrote to `$GITHUB_OUTPUT`.
fn outputs(file: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn output(file: &Path, key: &str) -> Option<String> {
    outputs(file)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn slug_at_version() -> String {
    format!(
        "{}@v{}",
        evalgate::build_info::github_slug(),
        env!("CARGO_PKG_VERSION")
    )
}

#[test]
fn version_names_version_commit_and_date_and_run_json_records_them() {
    let tmp = tempfile::tempdir().unwrap();
    let res = evalgate(&["--version"], tmp.path());
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let line = String::from_utf8(res.stdout).unwrap();
    let re = regex::Regex::new(
        r"^evalgate (\d+\.\d+\.\d+\S*) \(commit ([0-9a-f]{12}|unknown), built (\d{4}-\d{2}-\d{2})\)\n$",
    )
    .unwrap();
    let cap = re.captures(&line).unwrap_or_else(|| panic!("{line:?}"));
    assert_eq!(&cap[1], env!("CARGO_PKG_VERSION"));
    // Built from a checkout, the commit is known.
    if repo().join(".git").exists() {
        assert_ne!(&cap[2], "unknown", "{line}");
    }

    let res = run_sim(
        tmp.path(),
        &repo().join("suites/quickstart.yaml"),
        Path::new("run"),
        &["--models", "sim/fast", "--no-history"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("run/run.json")).unwrap())
            .unwrap();
    assert_eq!(meta["build"]["version"], &cap[1]);
    assert_eq!(meta["build"]["commit"], &cap[2]);
    assert_eq!(meta["build"]["date"], &cap[3]);
}

#[test]
fn completions_for_every_shell_and_the_man_page_are_printed() {
    let tmp = tempfile::tempdir().unwrap();
    for shell_name in ["bash", "zsh", "fish", "powershell"] {
        let res = evalgate(&["completions", shell_name], tmp.path());
        assert_eq!(res.status.code(), Some(0), "{shell_name}: {}", text(&res));
        let script = String::from_utf8(res.stdout).unwrap();
        assert!(
            script.contains("evalgate")
                && script.contains("compare")
                && script.contains("baseline"),
            "{shell_name} completions lack the commands:\n{script}"
        );
    }
    let res = evalgate(&["completions", "tcsh"], tmp.path());
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));

    let res = evalgate(&["man"], tmp.path());
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let page = String::from_utf8(res.stdout).unwrap();
    assert!(page.contains(".TH evalgate 1"), "{page}");
    assert!(page.contains("completions") && page.contains("compare"));
}

#[test]
fn init_in_a_subfolder_of_a_git_repository_writes_the_workflow_at_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("services/api")).unwrap();

    let res = evalgate(&["init", "services/api"], &root);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let workflow_path = root.join(".github/workflows/evals.yml");
    assert!(workflow_path.is_file(), "{}", text(&res));
    assert!(!root.join("services/api/.github").exists());
    assert!(root.join("services/api/evals/starter.yaml").is_file());
    let said = String::from_utf8_lossy(&res.stdout);
    assert!(
        said.contains(&workflow_path.canonicalize().unwrap().display().to_string())
            && said.contains("repository root"),
        "{said}"
    );

    // The workflow runs that suite (named from the root) with the action of
    // this release, and falls back to --sim with a notice without the key.
    let workflow = yaml(&workflow_path);
    let job = &workflow["jobs"]["evals"];
    assert_eq!(
        job["env"]["AI_GATEWAY_API_KEY"].as_str(),
        Some("${{ secrets.AI_GATEWAY_API_KEY }}")
    );
    let action = steps(job)
        .iter()
        .find(|s| s["uses"].as_str() == Some(slug_at_version().as_str()))
        .unwrap_or_else(|| panic!("no step uses {}", slug_at_version()));
    assert_eq!(
        action["with"]["suite"].as_str(),
        Some("services/api/evals/starter.yaml")
    );
    assert_eq!(
        action["with"]["args"].as_str(),
        Some("${{ steps.mode.outputs.args }}")
    );

    // The mode step, run as written: no key → --sim and a notice.
    let mode = step_script(steps(job), "mode");
    let out_file = tmp.path().join("out-nokey");
    let res = shell(
        mode,
        tmp.path(),
        &[("GITHUB_OUTPUT", out_file.to_str().unwrap())],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).starts_with("::notice::"));
    assert_eq!(output(&out_file, "args").as_deref(), Some("--sim"));
    assert_eq!(output(&out_file, "baseline"), None);
    // With the key: the real gateway, compared with the baseline.
    let out_file = tmp.path().join("out-key");
    let res = shell(
        mode,
        tmp.path(),
        &[
            ("GITHUB_OUTPUT", out_file.to_str().unwrap()),
            ("AI_GATEWAY_API_KEY", "sk-test"),
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(!String::from_utf8_lossy(&res.stdout).contains("::notice::"));
    assert_eq!(output(&out_file, "args"), None);
    assert_eq!(output(&out_file, "baseline").as_deref(), Some("baseline"));

    // From inside the subfolder with no DIR: the root again; a second init
    // refuses to overwrite.
    let res = evalgate(&["init"], &root.join("services"));
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(text(&res).contains(".github/workflows/evals.yml exists"));
    std::fs::remove_file(&workflow_path).unwrap();
    let res = evalgate(&["init"], &root.join("services"));
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(workflow_path.is_file());
    assert!(root.join("services/evals/starter.yaml").is_file());
}

#[test]
fn init_outside_a_git_repository_writes_under_dir_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    if tmp.path().ancestors().any(|d| d.join(".git").exists()) {
        panic!("the temporary directory is inside a git repository; set TMPDIR elsewhere");
    }
    let res = evalgate(&["init", "project"], tmp.path());
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(tmp
        .path()
        .join("project/.github/workflows/evals.yml")
        .is_file());
    assert!(String::from_utf8_lossy(&res.stdout).contains("no git repository"));
}

#[test]
fn the_action_declares_its_inputs_outputs_and_steps() {
    let action = yaml(&repo().join("action.yml"));
    let inputs = action["inputs"].as_mapping().unwrap();
    for name in [
        "suite",
        "models",
        "min-pass-rate",
        "baseline",
        "key-env",
        "args",
        "version",
    ] {
        assert!(inputs.contains_key(name), "action.yml lacks input {name}");
    }
    assert_eq!(action["inputs"]["suite"]["required"].as_bool(), Some(true));
    for name in ["exit-code", "run-dir", "pass-rate"] {
        let value = action["outputs"][name]["value"]
            .as_str()
            .unwrap_or_default();
        assert!(
            value.contains("steps.run.outputs"),
            "output {name}: {value}"
        );
    }
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let steps = steps(&action["runs"]);
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter().any(|u| u.starts_with("actions/cache@")),
        "{uses:?}"
    );
    assert!(uses
        .iter()
        .any(|u| u.starts_with("actions/upload-artifact@")));
    let cache = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("cache"))
        .unwrap();
    let key = cache["with"]["key"].as_str().unwrap();
    assert!(key.contains("steps.target.outputs.version"), "{key}");
    assert!(
        step_script(steps, "Append report.md to the job summary").contains("GITHUB_STEP_SUMMARY")
    );
    // The last step propagates evalgate's exit code.
    assert!(steps.last().unwrap()["run"]
        .as_str()
        .unwrap()
        .contains("exit"));
    // Every input reaches a script through the environment, never pasted in.
    for s in steps {
        if let Some(script) = s["run"].as_str() {
            assert!(!script.contains("${{"), "expression in a script: {script}");
        }
    }
}

#[test]
fn the_action_picks_the_archive_for_each_runner() {
    let action = yaml(&repo().join("action.yml"));
    let script = step_script(steps(&action["runs"]), "target");
    let tmp = tempfile::tempdir().unwrap();
    let pick = |os: &str, arch: &str, version: &str, name: &str| {
        let out = tmp.path().join(name);
        let res = shell(
            script,
            tmp.path(),
            &[
                ("GITHUB_OUTPUT", out.to_str().unwrap()),
                ("VERSION", version),
                ("ACTION_REF", "v9.8.7"),
                ("ACTION_REPO", "owner/fork"),
                ("RUNNER_OS_NAME", os),
                ("RUNNER_ARCH_NAME", arch),
                ("TOOL_CACHE", "/opt/hostedtoolcache"),
            ],
        );
        (res, out)
    };
    let (res, out) = pick("Linux", "X64", "", "linux");
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    // No version given: the action's own tag.
    assert_eq!(output(&out, "version").as_deref(), Some("9.8.7"));
    assert_eq!(
        output(&out, "archive").as_deref(),
        Some("evalgate-x86_64-unknown-linux-musl.tar.gz")
    );
    assert_eq!(
        output(&out, "url").as_deref(),
        Some("https://github.com/owner/fork/releases/download/v9.8.7")
    );
    assert_eq!(
        output(&out, "dir").as_deref(),
        Some("/opt/hostedtoolcache/evalgate/9.8.7/x86_64-unknown-linux-musl")
    );
    let (_, out) = pick("Linux", "ARM64", "0.1.0", "arm");
    assert_eq!(output(&out, "version").as_deref(), Some("0.1.0"));
    assert_eq!(
        output(&out, "target").as_deref(),
        Some("aarch64-unknown-linux-musl")
    );
    let (_, out) = pick("macOS", "ARM64", "v0.1.0", "mac");
    assert_eq!(output(&out, "version").as_deref(), Some("0.1.0"));
    assert_eq!(
        output(&out, "archive").as_deref(),
        Some("evalgate-aarch64-apple-darwin.tar.gz")
    );
    let (_, out) = pick("Windows", "X64", "0.1.0", "win");
    assert_eq!(
        output(&out, "archive").as_deref(),
        Some("evalgate-x86_64-pc-windows-msvc.zip")
    );
    let (res, _) = pick("Linux", "ARM", "0.1.0", "arm32");
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).contains("::error::no evalgate release"));
}

#[test]
fn the_action_runs_the_suite_and_reports_exit_code_run_dir_and_pass_rate() {
    let action = yaml(&repo().join("action.yml"));
    let steps = steps(&action["runs"]);
    let run = step_script(steps, "run");
    let exit = steps.last().unwrap()["run"].as_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let suite = repo().join("suites/quickstart.yaml");

    // Passing checks: exit 0, every check passed.
    let out = dir.join("out-pass");
    let res = shell(
        run,
        dir,
        &[
            ("GITHUB_OUTPUT", out.to_str().unwrap()),
            ("SUITE", suite.to_str().unwrap()),
            ("MODELS", "sim/fast,sim/balanced"),
            ("MIN_PASS_RATE", "0.9"),
            ("BASELINE", "baseline"),
            ("KEY_ENV", ""),
            ("ARGS", "--sim --no-history"),
            ("OUT", "first"),
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).contains("::notice::no baseline run at baseline"));
    assert_eq!(
        output(&out, "exit-code").as_deref(),
        Some("0"),
        "{}",
        text(&res)
    );
    assert_eq!(output(&out, "run-dir").as_deref(), Some("first"));
    assert_eq!(output(&out, "pass-rate").as_deref(), Some("1"));
    assert!(dir.join("first/report.md").is_file());

    // Failing checks, compared with the first run: the step itself succeeds
    // (the summary and upload still run), the outputs carry the failure and
    // the last step exits with it.
    let failing = suite_file(
        dir,
        "failing.yaml",
        "name: failing\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n    assert:\n      - type: contains\n        value: zzz-never-in-an-answer\n  - id: b\n    prompt: hello\n",
    );
    let out = dir.join("out-fail");
    let res = shell(
        run,
        dir,
        &[
            ("GITHUB_OUTPUT", out.to_str().unwrap()),
            ("SUITE", failing.to_str().unwrap()),
            ("MODELS", ""),
            ("MIN_PASS_RATE", ""),
            ("BASELINE", ""),
            ("KEY_ENV", ""),
            ("ARGS", "--sim --no-history"),
            ("OUT", "second"),
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(
        output(&out, "exit-code").as_deref(),
        Some("1"),
        "{}",
        text(&res)
    );
    assert_eq!(output(&out, "pass-rate").as_deref(), Some("0"));
    let code = output(&out, "exit-code").unwrap();
    let res = shell(exit, dir, &[("CODE", code.as_str())]);
    assert_eq!(res.status.code(), Some(1));
    // No code at all (the run step never ran): the run failed.
    let res = shell(exit, dir, &[("CODE", "")]);
    assert_eq!(res.status.code(), Some(3));
}

#[test]
fn the_release_workflow_builds_every_target_and_packs_completions_and_man() {
    let release = yaml(&repo().join(".github/workflows/release.yml"));
    let on_tags = &release["on"]["push"]["tags"];
    assert!(
        on_tags.as_sequence().is_some_and(|t| !t.is_empty()),
        "{on_tags:?}"
    );
    let build = &release["jobs"]["build"];
    let targets: Vec<&str> = build["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|t| t["target"].as_str())
        .collect();
    for want in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(
            targets.contains(&want),
            "release.yml lacks {want}: {targets:?}"
        );
    }
    let build_script = step_script(steps(build), "Build");
    assert!(build_script.contains("--profile dist") && build_script.contains("--locked"));
    let pack = step_script(steps(build), "pack");
    for piece in [
        "completions bash",
        "completions zsh",
        "completions fish",
        "completions powershell",
        " man >",
        "sha256",
        "name=\"evalgate-$TARGET\"",
    ] {
        assert!(pack.contains(piece), "the pack step lacks `{piece}`");
    }
    let publish = step_script(steps(&release["jobs"]["release"]), "Publish the release");
    assert!(publish.contains("scripts/install.sh") && publish.contains("gh release create"));
    // cargo binstall looks for the same archive names.
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("evalgate-{ target }{ archive-suffix }"));
}

#[test]
fn the_repository_address_has_one_source() {
    let slug = evalgate::build_info::github_slug();
    let read = |p: &str| std::fs::read_to_string(repo().join(p)).unwrap();
    assert!(read("scripts/install.sh").contains(&format!("${{EVALGATE_REPO:-{slug}}}")));
    assert!(read("action.yml").contains(&format!("${{ACTION_REPO:-{slug}}}")));
    let readme = read("README.md");
    assert!(readme.contains(&format!(
        "https://github.com/{slug}/releases/latest/download/evalgate-installer.sh"
    )));
    assert!(readme.contains(&format!("uses: {}", slug_at_version())));
}

/// Serve the files of `dir` over loopback HTTP, as a release's download URL.
async fn serve_dir(dir: PathBuf) -> SocketAddr {
    use axum::extract::Path as UrlPath;
    use axum::http::StatusCode;
    let app = axum::Router::new().route(
        "/{file}",
        axum::routing::get(move |UrlPath(file): UrlPath<String>| {
            let dir = dir.clone();
            async move {
                std::fs::read(dir.join(file))
                    .map(|bytes| (StatusCode::OK, bytes))
                    .unwrap_or((StatusCode::NOT_FOUND, Vec::new()))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The release target `scripts/install.sh` picks on this machine.
fn installer_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("the installer has no target for {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_installer_checks_the_sha256_and_installs_binary_completions_and_man() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    // A release as release.yml packs it, holding the binary under test.
    let name = format!("evalgate-{}", installer_target());
    let pack = root.join("pack").join(&name);
    std::fs::create_dir_all(pack.join("completions")).unwrap();
    std::fs::create_dir_all(pack.join("man")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_evalgate"), pack.join("evalgate")).unwrap();
    let release = root.join("release");
    std::fs::create_dir_all(&release).unwrap();
    let script = format!(
        "set -e; evalgate completions bash > {p}/completions/evalgate.bash; \
         evalgate completions zsh > {p}/completions/_evalgate; \
         evalgate completions fish > {p}/completions/evalgate.fish; \
         evalgate man > {p}/man/evalgate.1; \
         tar -czf {r}/{name}.tar.gz -C {parent} {name}; \
         cd {r} && sha256sum {name}.tar.gz > {name}.tar.gz.sha256",
        p = pack.display(),
        r = release.display(),
        parent = pack.parent().unwrap().display(),
    );
    let res = shell(&script, &root, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let addr = serve_dir(release.clone()).await;
    let url = format!("http://{addr}");
    let installer = repo().join("scripts/install.sh");
    let install = move |home: PathBuf| {
        let url = url.clone();
        let installer = installer.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let line = format!("sh {}", installer.display());
                let bin_dir = home.join(".local/bin");
                shell(
                    &line,
                    &home,
                    &[
                        ("HOME", home.to_str().unwrap()),
                        ("EVALGATE_DOWNLOAD_URL", url.as_str()),
                        ("EVALGATE_INSTALL_DIR", bin_dir.to_str().unwrap()),
                    ],
                )
            })
            .await
            .unwrap()
        }
    };

    let home = root.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let res = install(home.clone()).await;
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let installed = home.join(".local/bin/evalgate");
    let version = std::process::Command::new(&installed)
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("evalgate "));
    assert!(text(&res).contains("installed evalgate "));
    assert!(home.join(".local/share/man/man1/evalgate.1").is_file());
    assert!(home
        .join(".local/share/bash-completion/completions/evalgate")
        .is_file());

    // A tampered archive: refused, nothing installed.
    std::fs::write(
        release.join(format!("{name}.tar.gz.sha256")),
        format!("{}  {name}.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();
    let home = root.join("home2");
    std::fs::create_dir_all(&home).unwrap();
    let res = install(home.clone()).await;
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    assert!(text(&res).contains("checksum mismatch"), "{}", text(&res));
    assert!(!home.join(".local/bin/evalgate").exists());
}

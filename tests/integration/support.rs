//! Test support: builds the example guests once per run, starts the real
//! `lamina` binary on a free port, and gives a real HTTP client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// Paths of the built guest components.
pub struct Guests {
    pub hello_http: PathBuf,
    pub http_counter: PathBuf,
    pub http_p3: PathBuf,
    pub echo: PathBuf,
    pub faults: PathBuf,
    pub counter: PathBuf,
    pub io_wait: PathBuf,
    pub order_workflow: PathBuf,
    pub durable_cases: PathBuf,
}

/// Builds the guests in `examples/` (once per test process; cargo makes a
/// rebuild a no-op) and returns their paths.
pub fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let script = repo().join("scripts/build-guests.sh");
        let status = Command::new("bash")
            .arg(&script)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_MAKEFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .stdout(Stdio::null())
            .status()
            .expect("run scripts/build-guests.sh");
        assert!(status.success(), "building the example guests failed");
        let dir = guest_dir();
        let g = Guests {
            hello_http: dir.join("hello_http.wasm"),
            http_counter: dir.join("http_counter.wasm"),
            http_p3: dir.join("http_p3.wasm"),
            echo: dir.join("echo.wasm"),
            faults: dir.join("faults.wasm"),
            counter: dir.join("counter.wasm"),
            io_wait: dir.join("io_wait.wasm"),
            order_workflow: dir.join("order_workflow.wasm"),
            durable_cases: dir.join("durable_cases.wasm"),
        };
        for p in [
            &g.hello_http,
            &g.http_counter,
            &g.http_p3,
            &g.echo,
            &g.faults,
            &g.counter,
            &g.io_wait,
            &g.order_workflow,
            &g.durable_cases,
        ] {
            assert!(p.is_file(), "missing guest {}", p.display());
        }
        g
    })
}

fn guest_dir() -> PathBuf {
    let target = std::env::var_os("LAMINA_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    target.join("guests/wasm32-wasip2/release")
}

/// A compiled-component cache shared by the tests that do not test the cache.
pub fn shared_cache() -> PathBuf {
    repo().join("target/test-cache")
}

/// A running `lamina serve` process; killed on drop.
pub struct Lamina {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Everything it printed on stdout before it was ready.
    pub banner: String,
    /// Its state directory.
    pub state: tempfile::TempDir,
}

/// What a process that failed to start printed.
pub struct Failed {
    pub code: Option<i32>,
    pub stderr: String,
}

/// `lamina` command with quiet logs.
pub fn lamina_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lamina"));
    cmd.env("LAMINA_LOG", "warn");
    cmd
}

impl Lamina {
    /// Starts `lamina serve` with `args` (plus listen/state-dir/cache-dir
    /// unless given), waiting until it prints its URL.
    pub fn start(args: &[&str]) -> Lamina {
        let state = tempfile::tempdir().expect("tempdir");
        Self::start_in(args, state, Some(shared_cache()))
    }

    /// Starts with a `lamina.toml` holding `text`, written into the state dir.
    pub fn with_config(text: &str, extra: &[&str]) -> Lamina {
        let state = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(state.path(), text);
        let cfg = cfg.to_str().expect("utf8").to_string();
        let mut args = vec!["--config", cfg.as_str()];
        args.extend_from_slice(extra);
        Self::start_in(&args, state, Some(shared_cache()))
    }

    /// Like [`Lamina::start`] with a given state dir and cache dir (`None`:
    /// the default cache under the state dir).
    pub fn start_in(args: &[&str], state: tempfile::TempDir, cache: Option<PathBuf>) -> Lamina {
        let mut cmd = lamina_cmd();
        cmd.arg("serve").args(args);
        cmd.arg("--listen").arg("127.0.0.1:0");
        cmd.arg("--state-dir").arg(state.path());
        if let Some(cache) = cache {
            cmd.arg("--cache-dir").arg(cache);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn lamina");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            let mut url = None;
            let mut ready = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if ready {
                    continue;
                }
                banner.push_str(&line);
                banner.push('\n');
                if let Some(i) = line.find("listening on ") {
                    url = Some(line[i + "listening on ".len()..].trim().to_string());
                }
                if line.starts_with("Metrics:") {
                    ready = true;
                    let _ = tx.send((url.clone(), banner.clone()));
                }
            }
            let _ = tx.send((None, banner));
        });
        let (url, banner) = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("lamina did not print its URL within 300 s");
        let Some(url) = url else {
            let status = child.wait().ok();
            panic!("lamina exited before serving ({status:?}); stdout: {banner}");
        };
        Lamina {
            child,
            url,
            banner,
            state,
        }
    }

    /// Stops the process (SIGKILL) and returns its state dir for a restart.
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let state = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.state, state)
    }

    /// The resident memory of the process, in bytes (Linux `/proc`).
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(kb * 1024)
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The value of one Prometheus sample line (exact series name with labels).
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let text = client()
            .get(self.at("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }
}

impl Drop for Lamina {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `lamina serve` with `args` expecting it to fail at start-up.
pub fn start_fails(args: &[&str]) -> Failed {
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = lamina_cmd()
        .arg("serve")
        .args(args)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--state-dir")
        .arg(state.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lamina");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
            }
            return Failed {
                code: status.code(),
                stderr,
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("lamina kept running although it should have failed: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A shared HTTP client.
pub fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(256)
                .build()
                .expect("client")
        })
        .clone()
}

/// Invokes a handler function through the Lambda API.
pub async fn invoke(host: &Lamina, name: &str, payload: &str, kind: &str) -> reqwest::Response {
    client()
        .post(host.at(&format!("/2015-03-31/functions/{name}/invocations")))
        .header("x-amz-invocation-type", kind)
        .body(payload.to_string())
        .send()
        .await
        .expect("invoke request")
}

/// Writes a `lamina.toml` into `dir` and returns its path.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("lamina.toml");
    std::fs::write(&p, text).expect("write config");
    p
}

/// A TOML string literal for a path.
pub fn toml_path(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

//! The load generator: `C` keep-alive HTTP/1.1 connections (hyper's client)
//! sending `POST /allocate` back to back for a fixed time, on a
//! single-threaded runtime of its own thread, so that the services keep the
//! benchmark's multi-threaded runtime to themselves. Every latency is kept.

use std::cell::Cell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::handwritten::BoxError;

/// What the requests of one round ask for.
#[derive(Clone, Copy, Debug)]
pub struct Demand {
    /// Concurrent connections, each one request at a time.
    pub connections: usize,
    /// How long the round sends requests.
    pub duration: Duration,
    /// SKUs `0..skus` exist (`SKU-00000`, ...); the first `hot` of them get
    /// `hot_share` of the requests, so that allocations race on them.
    pub skus: usize,
    pub hot: usize,
    pub hot_share: f64,
    /// Quantities are drawn from `1..=max_qty`.
    pub max_qty: u32,
}

/// What one round saw.
#[derive(Debug, Default)]
pub struct Round {
    /// Every request's latency, µs.
    pub latencies: Vec<u32>,
    /// `(orderid, batchref)` of every 201.
    pub allocated: Vec<(String, String)>,
    pub created: u64,
    pub out_of_stock: u64,
    pub conflicts: u64,
    pub other: u64,
    /// How long the round ran (from the first request to the last answer).
    pub elapsed: Duration,
}

impl Round {
    pub fn requests(&self) -> usize {
        self.latencies.len()
    }

    pub fn per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    fn merge(&mut self, other: Round) {
        self.latencies.extend(other.latencies);
        self.allocated.extend(other.allocated);
        self.created += other.created;
        self.out_of_stock += other.out_of_stock;
        self.conflicts += other.conflicts;
        self.other += other.other;
    }
}

/// The SKU of product `i`.
pub fn sku(i: usize) -> String {
    format!("SKU-{i:05}")
}

/// Runs one round against the service at `address` on a thread of its own;
/// order ids start with `tag`, so that no two requests of a run share one.
pub async fn round(address: SocketAddr, demand: Demand, tag: String) -> Result<Round, BoxError> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let outcome = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(BoxError::from)
            .and_then(|rt| rt.block_on(drive(address, demand, tag)));
        let _ = done.send(outcome.map_err(|e| e.to_string()));
    });
    Ok(result.await??)
}

async fn drive(address: SocketAddr, demand: Demand, tag: String) -> Result<Round, BoxError> {
    // Connect everything first, then start the clock.
    let mut senders = Vec::with_capacity(demand.connections);
    for _ in 0..demand.connections {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        senders.push(sender);
    }
    let started = Instant::now();
    let deadline = started + demand.duration;
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(c, sender)| {
            let tag = format!("{tag}-c{c}");
            tokio::spawn(connection(sender, demand, deadline, tag, c as u64))
        })
        .collect();
    let mut total = Round::default();
    for task in tasks {
        total.merge(task.await??);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

async fn connection(
    mut sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    demand: Demand,
    deadline: Instant,
    tag: String,
    seed: u64,
) -> Result<Round, BoxError> {
    let mut rng = Xorshift::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ random());
    let mut round = Round::default();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let product = if demand.hot > 0 && rng.unit() < demand.hot_share {
            rng.below(demand.hot as u64) as usize
        } else {
            demand.hot + rng.below((demand.skus - demand.hot) as u64) as usize
        };
        let orderid = format!("{tag}-{n}");
        let qty = 1 + rng.below(u64::from(demand.max_qty)) as u32;
        let body = format!(
            r#"{{"orderid":"{orderid}","sku":"{}","qty":{qty}}}"#,
            sku(product)
        );
        let request = Request::post("/allocate")
            .header(HOST, "127.0.0.1")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        sender.ready().await?;
        let sent = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        let micros = sent.elapsed().as_micros();
        round
            .latencies
            .push(u32::try_from(micros).unwrap_or(u32::MAX));
        match status {
            201 => {
                round.created += 1;
                let answer: serde_json::Value = serde_json::from_slice(&body)?;
                let batchref = answer["batchref"]
                    .as_str()
                    .ok_or("a 201 without a batchref")?
                    .to_owned();
                round.allocated.push((orderid, batchref));
            }
            400 => round.out_of_stock += 1,
            409 => round.conflicts += 1,
            _ => round.other += 1,
        }
    }
    Ok(round)
}

/// A small xorshift generator (the load needs no statistical quality, only
/// different streams per connection).
struct Xorshift(u64);

impl Xorshift {
    fn new(seed: u64) -> Self {
        Xorshift(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random number from a per-thread xorshift seeded by the standard
/// library's randomly keyed hasher (jitter for the hand-written service's
/// retries, seeds for the load).
pub fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(Instant::now().elapsed().as_nanos() as u64);
            hasher.finish() | 1
        });
    }
    STATE.with(|state| {
        let mut rng = Xorshift(state.get());
        let x = rng.next();
        state.set(x);
        x
    })
}

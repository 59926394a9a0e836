//! A client handle and a server handle of one component instance talking through this host over
//! an in-memory wire that splits the bytes at seeded random points.

use crate::drive::{drain_some, finished, send_with_options, Assembler, Endpoint, Event};
use crate::guest::{
    default_properties, header, Buffer, BufferType, CloseBuffer, Guest, PropertyValue, Runtime, SendOptions, State,
};
use crate::net::big_payload;
use anyhow::{anyhow, bail, Result};

/// SplitMix64, for the wire's split points (and the fuzzer).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

struct Peer {
    ep: Endpoint,
    assembler: Assembler,
    messages: Vec<(bool, Vec<u8>)>,
    pongs: Vec<Vec<u8>>,
    close: Option<(Option<u16>, Vec<u8>)>,
    sends_completed: usize,
}

impl Peer {
    fn new(ep: Endpoint) -> Peer {
        Peer {
            ep,
            assembler: Assembler::default(),
            messages: Vec::new(),
            pongs: Vec::new(),
            close: None,
            sends_completed: 0,
        }
    }
}

/// One side's turn: one drain crossing with a random 1..=max_split slice of what waits for it
/// (its output goes to the other's inbox), then react to its events. Returns whether anything moved.
fn turn(g: &mut Guest, me: &mut Peer, other: &mut Peer, rng: &mut Rng, max_split: u64) -> Result<bool> {
    let mut out = Vec::new();
    let limit = (1 + rng.below(max_split)) as usize;
    let before = me.ep.inbox.len();
    let events = drain_some(g, &mut me.ep, &mut out, limit)?;
    other.ep.inbox.extend_from_slice(&out);
    let progressed = !events.is_empty() || !out.is_empty() || me.ep.inbox.len() != before || me.ep.close_waits;
    for event in events {
        match event {
            Event::SendComplete { .. } => me.sends_completed += 1,
            Event::Received { buffer_type: BufferType::Close, bytes, close_status, .. } => {
                me.close = Some((close_status, bytes));
            }
            Event::Received { buffer_type, bytes, .. } => {
                if buffer_type == BufferType::PingPong {
                    me.pongs.push(bytes);
                } else if let Some(message) = me.assembler.push(buffer_type, &bytes) {
                    me.messages.push(message);
                }
            }
            Event::Failed(e) => bail!("unexpected peer error: {e:?}"),
        }
    }
    Ok(progressed)
}

/// Moves bytes between the two until neither makes progress.
fn settle(g: &mut Guest, a: &mut Peer, b: &mut Peer, rng: &mut Rng, max_split: u64) -> Result<()> {
    for _ in 0..10_000_000 {
        let x = turn(g, a, b, rng, max_split)?;
        let y = turn(g, b, a, rng, max_split)?;
        if !x && !y {
            return Ok(());
        }
    }
    bail!("the pair never went quiet")
}

/// Runs the pair: handshake with a subprotocol, text both ways, 1 MiB binary client to server
/// (arriving as 4 KiB fragment indications), ping/pong, close both ways. Returns a summary.
pub fn run_pair(runtime: &Runtime, seed: u64, max_split: u64) -> Result<Vec<String>> {
    let mut g = runtime.instantiate()?;
    let mut rng = Rng::new(seed);
    let mut lines = Vec::new();
    let client = g.create_client(default_properties(), None)?.map_err(|e| anyhow!("{e:?}"))?;
    let server = g.create_server(default_properties(), None)?.map_err(|e| anyhow!("{e:?}"))?;
    g.tick(client, 0)?;
    g.tick(server, 0)?;
    let offered = vec!["chat".to_string(), "superchat".to_string()];
    let mut request = g.begin_client_handshake(client, &offered, &[], &[])?.map_err(|e| anyhow!("{e:?}"))?;
    request.push(header("Host", "pair.test"));
    let response = g.begin_server_handshake(server, Some("superchat"), &[], &request)?.map_err(|e| anyhow!("{e:?}"))?;
    let result = g.end_client_handshake(client, &response)?.map_err(|e| anyhow!("{e:?}"))?;
    if result.selected_subprotocol != Some(1) {
        bail!("subprotocol index {:?}, wanted 1", result.selected_subprotocol);
    }
    lines.push("handshake: subprotocol superchat (index 1) agreed".to_string());
    g.receive(client, None)?.map_err(|e| anyhow!("{e:?}"))?;
    g.receive(server, None)?.map_err(|e| anyhow!("{e:?}"))?;
    let mut c = Peer::new(Endpoint::new(client));
    let mut s = Peer::new(Endpoint::new(server));

    let text = "hello, κόσμε".as_bytes().to_vec();
    g.send(client, BufferType::Utf8Message, Some(&Buffer::Data(text.clone())), Some(1))?
        .map_err(|e| anyhow!("{e:?}"))?;
    g.send(server, BufferType::Utf8Message, Some(&Buffer::Data(text.clone())), Some(2))?
        .map_err(|e| anyhow!("{e:?}"))?;
    settle(&mut g, &mut c, &mut s, &mut rng, max_split)?;
    if c.messages != vec![(true, text.clone())] || s.messages != vec![(true, text.clone())] {
        bail!("text did not cross both ways");
    }
    lines.push("text: crossed both ways".to_string());

    let big = big_payload();
    g.send(client, BufferType::BinaryMessage, Some(&Buffer::Data(big.clone())), Some(3))?
        .map_err(|e| anyhow!("{e:?}"))?;
    settle(&mut g, &mut c, &mut s, &mut rng, max_split.max(4096))?;
    if s.messages.last() != Some(&(false, big.clone())) {
        bail!("1 MiB did not arrive whole");
    }
    lines.push("binary: 1 MiB client to server, reassembled from receive-buffer pieces".to_string());

    g.send(server, BufferType::PingPong, Some(&Buffer::Data(b"beat".to_vec())), None)?.map_err(|e| anyhow!("{e:?}"))?;
    settle(&mut g, &mut c, &mut s, &mut rng, max_split)?;
    if s.pongs != vec![b"beat".to_vec()] {
        bail!("no pong for the server's ping: {:?}", s.pongs);
    }
    lines.push("ping: the client's engine answered, the server saw the pong".to_string());

    let bye = Buffer::CloseStatus(CloseBuffer { status: 1000, reason: b"bye".to_vec() });
    g.send(client, BufferType::Close, Some(&bye), None)?.map_err(|e| anyhow!("{e:?}"))?;
    settle(&mut g, &mut c, &mut s, &mut rng, max_split)?;
    if s.close != Some((Some(1000), b"bye".to_vec())) || g.state(server)? != State::CloseReceived {
        bail!("the server did not see the close: {:?}", s.close);
    }
    g.send(server, BufferType::Close, Some(&bye), None)?.map_err(|e| anyhow!("{e:?}"))?;
    settle(&mut g, &mut c, &mut s, &mut rng, max_split)?;
    if c.close != Some((Some(1000), b"bye".to_vec())) {
        bail!("the client did not see the close: {:?}", c.close);
    }
    for h in [client, server] {
        let state = g.state(h)?;
        if !finished(state) {
            bail!("a handle is {state:?} after the close handshake");
        }
    }
    lines.push(format!(
        "close: 1000 both ways, both handles closed ({} + {} sends completed)",
        c.sends_completed, s.sends_completed
    ));
    g.drop_handle(client)?;
    g.drop_handle(server)?;
    Ok(lines)
}

/// permessage-deflate between a client and a server handle: the engine agrees it from the deflate
/// properties, and send-and-drain's `compress` picks per message whether it goes out compressed
/// (RSV1 on its frame, RFC 7692 6) or as is (RSV1 clear). Every message arrives intact.
pub fn run_deflate_pair(runtime: &Runtime) -> Result<Vec<String>> {
    let mut g = runtime.instantiate()?;
    let mut lines = Vec::new();
    let deflate = vec![PropertyValue::PerMessageDeflate(true), PropertyValue::DeflateThreshold(0)];
    let client = g.create_client(deflate.clone(), Some(5))?.map_err(|e| anyhow!("{e:?}"))?;
    let server = g.create_server(deflate, Some(6))?.map_err(|e| anyhow!("{e:?}"))?;
    let mut request = g.begin_client_handshake(client, &[], &[], &[])?.map_err(|e| anyhow!("{e:?}"))?;
    request.push(header("Host", "deflate.test"));
    let response = g.begin_server_handshake(server, None, &[], &request)?.map_err(|e| anyhow!("{e:?}"))?;
    g.end_client_handshake(client, &response)?.map_err(|e| anyhow!("{e:?}"))?;
    for h in [client, server] {
        let agreed = g.extensions(h)?;
        if agreed != ["permessage-deflate"] {
            bail!("extensions agreed: {agreed:?}");
        }
    }
    g.receive(server, None)?.map_err(|e| anyhow!("{e:?}"))?;
    let mut c = Peer::new(Endpoint::new(client));
    let mut s = Peer::new(Endpoint::new(server));
    let mut rng = Rng::new(1);
    let text = br#"{"price": 100, "currency": "EUR"} "#.repeat(300);
    for compress in [true, false, true] {
        let mut wire = Vec::new();
        send_with_options(
            &mut g,
            &mut c.ep,
            BufferType::Utf8Message,
            Some(&Buffer::Data(text.clone())),
            SendOptions { compress },
            &mut wire,
        )?
        .map_err(|e| anyhow!("send-and-drain: {e:?}"))?;
        let rsv1 = wire.first().is_some_and(|b| b & 0x40 != 0);
        if rsv1 != compress {
            bail!("send-and-drain with compress {compress}: RSV1 {rsv1}");
        }
        // Uncompressed: the text, a 4-byte header (16-bit length) and the mask key.
        if (compress && wire.len() >= 200) || (!compress && wire.len() != text.len() + 8) {
            bail!("send-and-drain with compress {compress}: {} bytes on the wire", wire.len());
        }
        s.ep.inbox.extend_from_slice(&wire);
        settle(&mut g, &mut c, &mut s, &mut rng, u64::MAX / 2)?;
        lines.push(format!("send-and-drain with compress {compress}: {} bytes on the wire, RSV1 {rsv1}", wire.len()));
    }
    if s.messages.len() != 3 || s.messages.iter().any(|m| *m != (true, text.clone())) {
        bail!("the server did not get the three messages intact");
    }
    lines.push("all three arrived intact".to_string());
    g.drop_handle(client)?;
    g.drop_handle(server)?;
    Ok(lines)
}

//! Bad input through wasmtime: a seeded random sequence of calls with stale and invented action
//! ids, calls in wrong states, out-of-range properties, malformed headers, hostile frames and
//! garbage HTTP heads, the driver's drain and send-and-drain among them. Every call must come back as a value (an `error` variant or a result),
//! never a trap: any trap fails the run with its seed and step.

use crate::guest::{
    default_properties, header, Action, ActionQueue, Buffer, BufferType, CloseBuffer, DrainOptions, Error, Guest,
    Header, HttpLimits, KeepAliveMode, Properties, PropertyValue, Runtime, SendOptions,
};
use crate::pair::Rng;
use anyhow::{anyhow, Context, Result};
use std::collections::BTreeMap;
use wasmtime::component::ResourceAny;

const TYPES: [BufferType; 8] = [
    BufferType::Utf8Message,
    BufferType::Utf8Fragment,
    BufferType::BinaryMessage,
    BufferType::BinaryFragment,
    BufferType::Close,
    BufferType::PingPong,
    BufferType::UnsolicitedPong,
    BufferType::Ping,
];

/// What a run saw: how many calls, and how many of each error case came back.
#[derive(Debug, Default)]
pub struct FuzzReport {
    pub calls: u64,
    pub errors: BTreeMap<&'static str, u64>,
}

struct Fuzzer {
    g: Guest,
    rng: Rng,
    handles: Vec<ResourceAny>,
    /// Action ids seen (to complete again later: stale and repeated ids).
    ids: Vec<u32>,
    /// Bytes one handle sent (valid frames to splice into another's input).
    captured: Vec<u8>,
    report: FuzzReport,
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

impl Fuzzer {
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let n = self.rng.below(max + 1) as usize;
        (0..n).map(|_| self.rng.next_u64() as u8).collect()
    }

    fn number(&mut self) -> u64 {
        match self.rng.below(6) {
            0 => 0,
            1 => u64::MAX,
            2 => u32::MAX as u64,
            3 => self.rng.below(300),
            4 => 1 << self.rng.below(64),
            _ => self.rng.next_u64(),
        }
    }

    fn text(&mut self) -> String {
        let pieces = [
            "chat",
            "",
            " ",
            "a,b",
            "x\r\ny: z",
            "\0",
            "tok\u{e9}n",
            "permessage-deflate; x=1",
            "GET",
            "websocket",
            "Upgrade",
            "13",
        ];
        let mut s = String::new();
        for _ in 0..self.rng.below(3) + 1 {
            s.push_str(*pick(&mut self.rng, &pieces[..]));
        }
        s
    }

    fn headers(&mut self) -> Vec<Header> {
        let names = [
            "Host",
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Key",
            "Sec-WebSocket-Version",
            "Sec-WebSocket-Accept",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions",
            "Bad Name",
            "",
            "X\r\nInjected",
        ];
        let values = [
            "websocket",
            "Upgrade",
            "13",
            "8",
            "dGhlIHNhbXBsZSBub25jZQ==",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "chat",
            "a\r\nb",
            "",
            "\0",
        ];
        let n = self.rng.below(12);
        let mut out = Vec::new();
        for _ in 0..n {
            let name = *pick(&mut self.rng, &names);
            let value = *pick(&mut self.rng, &values);
            out.push(header(name, value));
        }
        out
    }

    fn properties(&mut self) -> Properties {
        let mut p = default_properties();
        for _ in 0..self.rng.below(4) {
            let v = self.number();
            p.push(match self.rng.below(21) {
                0 => PropertyValue::ReceiveBufferSize(v as u32),
                1 => PropertyValue::SendBufferSize(v as u32),
                2 => PropertyValue::DisableMasking(v % 2 == 0),
                3 => PropertyValue::AllocatedBuffer,
                4 => PropertyValue::DisableUtf8Verification(v % 2 == 0),
                5 => PropertyValue::KeepAliveInterval(v as u32),
                6 => PropertyValue::KeepAliveMode(if v % 2 == 0 {
                    KeepAliveMode::Ping
                } else {
                    KeepAliveMode::UnsolicitedPong
                }),
                7 => PropertyValue::KeepAliveTimeout(v as u32),
                8 => PropertyValue::CloseTimeout(v as u32),
                9 => PropertyValue::HandshakeTimeout(v as u32),
                10 => PropertyValue::MaxFrameSize(v),
                11 => PropertyValue::MaxMessageSize(v),
                12 => PropertyValue::MaxFragments(v as u32),
                13 => PropertyValue::MaxHandshakeHeaderBytes(v as u32),
                14 => PropertyValue::IndicatePings(v % 2 == 0),
                15 => PropertyValue::AutoPong(v % 2 == 0),
                // permessage-deflate on (often: the compress flag of send-and-drain needs it) and
                // its windows and level, in range or not.
                16 | 17 => PropertyValue::PerMessageDeflate(v % 4 != 0),
                18 => PropertyValue::DeflateServerMaxWindowBits(v as u8),
                19 => PropertyValue::DeflateLevel(v as u8),
                _ => PropertyValue::MaxHandshakeHeaders(v as u32),
            });
        }
        p
    }

    /// A hostile frame: random header bits, lengths that lie, reserved opcodes, bad close codes.
    fn frame(&mut self) -> Vec<u8> {
        let opcode = self.rng.below(16) as u8;
        let first = (self.rng.below(16) as u8) << 4 | opcode;
        let masked = self.rng.below(2) == 1;
        let payload = self.bytes(200);
        let mut out = vec![first];
        let len_byte = |l: u8| if masked { l | 0x80 } else { l };
        match self.rng.below(4) {
            0 => out.push(len_byte(payload.len().min(125) as u8)),
            1 => {
                out.push(len_byte(126));
                out.extend_from_slice(&(self.rng.next_u64() as u16).to_be_bytes());
            }
            2 => {
                out.push(len_byte(127));
                out.extend_from_slice(&self.rng.next_u64().to_be_bytes());
            }
            _ => out.push(len_byte(self.rng.below(128) as u8)),
        }
        if masked {
            out.extend_from_slice(&(self.rng.next_u64() as u32).to_be_bytes());
        }
        out.extend_from_slice(&payload);
        out
    }

    fn note<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        self.report.calls += 1;
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                *self.report.errors.entry(e.case()).or_default() += 1;
                None
            }
        }
    }

    fn handle(&mut self) -> Option<ResourceAny> {
        if self.handles.is_empty() {
            None
        } else {
            Some(*pick(&mut self.rng, &self.handles))
        }
    }

    /// An established pair (client and server handshaken against each other), so that frames
    /// reach a handle in the open state.
    fn open_pair(&mut self) -> Result<()> {
        let c = self.g.create_client(default_properties(), Some(self.rng.next_u64()))?;
        let s = self.g.create_server(default_properties(), Some(self.rng.next_u64()))?;
        let (Some(c), Some(s)) = (self.note(c), self.note(s)) else { return Ok(()) };
        let mut request = self.g.begin_client_handshake(c, &[], &[], &[])?.unwrap_or_default();
        request.push(header("Host", "fuzz.test"));
        let response = self.g.begin_server_handshake(s, None, &[], &request)?;
        if let Some(response) = self.note(response) {
            let r = self.g.end_client_handshake(c, &response)?;
            self.note(r);
        }
        self.handles.push(c);
        self.handles.push(s);
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        if self.handles.len() > 8 {
            let i = self.rng.below(self.handles.len() as u64) as usize;
            let h = self.handles.swap_remove(i);
            self.g.drop_handle(h)?;
        }
        let Some(h) = self.handle() else { return self.open_pair() };
        match self.rng.below(26) {
            0 => self.open_pair()?,
            1 => {
                let p = self.properties();
                let r = if self.rng.below(2) == 0 {
                    self.g.create_client(p, Some(self.rng.next_u64()))?
                } else {
                    self.g.create_server(p, None)?
                };
                if let Some(h) = self.note(r) {
                    self.handles.push(h);
                }
            }
            2 => {
                let (subs, exts, hs) = ([self.text(), self.text()], [self.text()], self.headers());
                let r = self.g.begin_client_handshake(
                    h,
                    &subs[..self.rng.below(3) as usize],
                    &exts[..self.rng.below(2) as usize],
                    &hs,
                )?;
                self.note(r);
            }
            3 => {
                let hs = self.headers();
                let r = self.g.end_client_handshake(h, &hs)?;
                self.note(r);
            }
            4 => {
                let (sub, ext, hs) = (self.text(), vec![self.text()], self.headers());
                let sub = if self.rng.below(2) == 0 { None } else { Some(sub.as_str()) };
                let r = self.g.begin_server_handshake(h, sub, &ext[..self.rng.below(2) as usize], &hs)?;
                self.note(r);
            }
            5 => {
                let r = self.g.end_server_handshake(h)?;
                self.note(r);
            }
            6 | 7 => {
                let t = *pick(&mut self.rng, &TYPES);
                let buffer = match self.rng.below(3) {
                    0 => None,
                    1 => Some(Buffer::Data(self.bytes(300))),
                    _ => {
                        Some(Buffer::CloseStatus(CloseBuffer { status: self.number() as u16, reason: self.bytes(130) }))
                    }
                };
                let ctx = Some(self.rng.next_u64());
                let r = self.g.send(h, t, buffer.as_ref(), ctx)?;
                self.note(r);
            }
            8 => {
                let r = self.g.receive(h, Some(self.rng.next_u64()))?;
                self.note(r);
            }
            9..=11 => {
                let queue = *pick(&mut self.rng, &[ActionQueue::Send, ActionQueue::Receive, ActionQueue::All]);
                let r = self.g.get_action(h, queue)?;
                if let Some(action) = self.note(r) {
                    let id = match &action {
                        Action::NoAction => 0,
                        Action::SendToNetwork(a) => {
                            self.captured.extend_from_slice(&a.bytes);
                            a.id
                        }
                        Action::IndicateSendComplete(a) => a.id,
                        Action::ReceiveFromNetwork(a) => a.id,
                        Action::IndicateReceiveComplete(a) => a.id,
                    };
                    self.ids.push(id);
                }
            }
            12 | 13 => {
                // complete-action: a seen id (current, stale or repeated) or an invented one.
                let id = if !self.ids.is_empty() && self.rng.below(4) != 0 {
                    *pick(&mut self.rng, &self.ids)
                } else {
                    self.rng.next_u64() as u32
                };
                let n = self.number() as u32;
                let n = if self.rng.below(2) == 0 { n % 300 } else { n };
                let r = self.g.complete_action(h, id, n)?;
                self.note(r);
            }
            14 | 15 => {
                // complete-receive with hostile frames, captured real frames, or noise.
                let id = if !self.ids.is_empty() && self.rng.below(5) != 0 {
                    *pick(&mut self.rng, &self.ids)
                } else {
                    self.rng.next_u64() as u32
                };
                let data = match self.rng.below(3) {
                    0 => self.frame(),
                    1 => {
                        let n = self.captured.len().min(self.rng.below(600) as usize);
                        self.captured.drain(..n).collect()
                    }
                    _ => self.bytes(5000),
                };
                let r = self.g.complete_receive(h, id, &data)?;
                self.note(r);
            }
            16 => {
                self.g.abort(h)?;
                self.report.calls += 1;
            }
            17 => {
                let now = self.number();
                self.g.tick(h, now)?;
                self.g.next_deadline(h)?;
                self.g.state(h)?;
                self.g.role(h)?;
                self.g.subprotocol(h)?;
                self.g.extensions(h)?;
                let f = self.g.failure(h)?;
                self.report.calls += 7;
                if let Some(e) = f {
                    self.note::<()>(Err(e));
                }
            }
            18 => {
                let mut head = b"GET / HTTP/1.1\r\n".to_vec();
                head.extend_from_slice(&self.bytes(400));
                if self.rng.below(2) == 0 {
                    head.extend_from_slice(b"\r\n\r\n");
                }
                let limits = HttpLimits {
                    max_header_bytes: (self.rng.below(2) == 0).then(|| self.number() as u32),
                    max_headers: (self.rng.below(2) == 0).then(|| self.number() as u32),
                };
                let r = self.g.parse_request_head(&head, limits)?;
                self.note(r);
                let r = self.g.parse_response_head(&head, limits)?;
                self.note(r);
            }
            19 => {
                let (m, t, hs) = (self.text(), self.text(), self.headers());
                let r = self.g.serialize_request_head(&m, &t, &hs)?;
                self.note(r);
                let status = self.number() as u16;
                let r = self.g.serialize_response_head(status, &t, &hs)?;
                self.note(r);
            }
            20 => {
                let (m, v) = (self.text(), self.rng.below(3) as u8);
                let r = self.g.check_request_line(&m, v)?;
                self.note(r);
                let property = self.number() as u32;
                let r = self.g.get_global_property(property)?;
                self.note(r);
            }
            21 => {
                let hs = self.headers();
                let key = self.text();
                self.g.offered_subprotocols(&hs)?;
                self.g.offered_extensions(&hs)?;
                self.g.accept_key(&key)?;
                let status = self.number() as u16;
                self.g.reason_phrase(status)?;
                self.report.calls += 4;
            }
            22 | 23 => {
                // The driver in one crossing: hostile frames, captured frames or noise as input,
                // odd options; a send-and-drain of any type.
                if self.rng.below(4) == 0 {
                    self.g.set_trace(h, self.rng.below(2) == 0)?;
                }
                let options = DrainOptions {
                    keep_receiving: self.rng.below(2) == 0,
                    max_out_bytes: (self.rng.below(2) == 0).then(|| self.number() as u32),
                };
                if self.rng.below(2) == 0 {
                    let data = match self.rng.below(3) {
                        0 => self.frame(),
                        1 => {
                            let n = self.captured.len().min(self.rng.below(600) as usize);
                            self.captured.drain(..n).collect()
                        }
                        _ => self.bytes(5000),
                    };
                    let end = self.rng.below(8) == 0;
                    let r = self.g.drain(h, &data, end, options)?;
                    if let Some(result) = self.note(r) {
                        self.captured.extend_from_slice(&result.out);
                    }
                } else {
                    let t = *pick(&mut self.rng, &TYPES);
                    let buffer = Buffer::Data(self.bytes(300));
                    let send_options = SendOptions { compress: self.rng.below(2) == 0 };
                    let r = self.g.send_and_drain(h, t, Some(&buffer), send_options, options)?;
                    if let Some(result) = self.note(r) {
                        self.captured.extend_from_slice(&result.out);
                    }
                }
            }
            _ => {
                // Drain a handle properly for a while, feeding it hostile frames when it asks.
                for _ in 0..20 {
                    let r = self.g.get_action(h, ActionQueue::All)?;
                    let Some(action) = self.note(r) else { continue };
                    match action {
                        Action::NoAction => break,
                        Action::SendToNetwork(a) => {
                            let r = self.g.complete_action(h, a.id, a.bytes.len() as u32)?;
                            self.note(r);
                        }
                        Action::ReceiveFromNetwork(a) => {
                            let mut data = self.frame();
                            data.truncate(a.capacity as usize);
                            let r = self.g.complete_receive(h, a.id, &data)?;
                            self.note(r);
                        }
                        Action::IndicateSendComplete(a) => {
                            let r = self.g.complete_action(h, a.id, 0)?;
                            self.note(r);
                        }
                        Action::IndicateReceiveComplete(a) => {
                            let r = self.g.complete_action(h, a.id, 0)?;
                            self.note(r);
                            let r = self.g.receive(h, None)?;
                            self.note(r);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Runs `steps` random calls from `seed` in one instance. Err = a trap (with seed and step).
pub fn run(runtime: &Runtime, seed: u64, steps: u64) -> Result<FuzzReport> {
    let mut f = Fuzzer {
        g: runtime.instantiate()?,
        rng: Rng::new(seed),
        handles: Vec::new(),
        ids: Vec::new(),
        captured: Vec::new(),
        report: FuzzReport::default(),
    };
    for step in 0..steps {
        f.step().with_context(|| format!("seed {seed}, step {step}: the component trapped"))?;
    }
    for h in std::mem::take(&mut f.handles) {
        f.g.drop_handle(h).map_err(|e| anyhow!("seed {seed}: dropping a handle trapped: {e:#}"))?;
    }
    Ok(f.report)
}

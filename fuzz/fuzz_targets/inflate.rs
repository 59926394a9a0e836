//! Arbitrary bytes as the frames of compressed messages, through the bounded inflater: no panic,
//! no output past the budget, no indication larger than the output buffer, whatever the window,
//! takeover mode, frame cuts and read sizes.
//!
//! Layout: data[0] picks the window bits (8..=15) and takeover; data[1] the output buffer size;
//! data[2] the read size; the rest is cut into frames at 0xFE bytes and into messages at 0xFD.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsaction::permessage_deflate::{Direction, InflateError, InflateState, MessageInflater};

const BUDGET: u64 = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let direction = Direction { window_bits: 8 + (data[0] & 7), no_context_takeover: data[0] & 8 != 0 };
    let mut buffer = vec![0u8; 1 + data[1] as usize * 16];
    let read_size = 1 + data[2] as usize;
    let mut inflater = MessageInflater::new(direction);
    for message in data[3..].split(|b| *b == 0xFD) {
        inflater.begin_message();
        let frames: Vec<&[u8]> = message.split(|b| *b == 0xFE).collect();
        let mut inflated = 0u64;
        'frames: for (index, frame) in frames.iter().enumerate() {
            let reads: Vec<&[u8]> = if frame.is_empty() { vec![&[][..]] } else { frame.chunks(read_size).collect() };
            for (read_index, read) in reads.iter().enumerate() {
                let ends_message = index + 1 == frames.len() && read_index + 1 == reads.len();
                let mut input = *read;
                loop {
                    match inflater.inflate(input, ends_message, &mut buffer, BUDGET - inflated) {
                        Ok(step) => {
                            assert!(step.consumed <= input.len() && step.produced <= buffer.len());
                            input = &input[step.consumed..];
                            inflated += step.produced as u64;
                            assert!(inflated <= BUDGET);
                            match step.state {
                                InflateState::OutputFull => continue,
                                InflateState::NeedsInput => {
                                    assert!(input.is_empty() && !ends_message);
                                    break;
                                }
                                InflateState::MessageDone => {
                                    assert!(input.is_empty() && ends_message && !inflater.in_message());
                                    break 'frames;
                                }
                            }
                        }
                        Err(InflateError::MessageTooBig { inflated: total }) => {
                            assert!(total <= BUDGET + 1);
                            break 'frames;
                        }
                        Err(InflateError::InvalidData { .. }) => break 'frames,
                        Err(InflateError::NotInMessage) => panic!("a begun message is never NotInMessage"),
                        // zlib's 47 KiB of state is always there to be had under the fuzzer's RSS limit.
                        Err(InflateError::OutOfMemory { bytes }) => panic!("{bytes} bytes of zlib state refused"),
                    }
                }
            }
        }
    }
});

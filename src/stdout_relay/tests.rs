//! The relay's copy loop: all is read, whatever the reader does.

use super::copy_then_discard;

/// A writer whose reader has gone after `left` bytes.
struct Closing {
    got: Vec<u8>,
    left: usize,
}

impl std::io::Write for Closing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.left);
        self.got.extend_from_slice(&buf[..n]);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn copies_until_the_reader_goes_then_reads_the_rest_without_error() {
    let input = vec![7u8; 300 * 1024];
    let mut from = std::io::Cursor::new(input.clone());
    let mut to = Closing {
        got: Vec::new(),
        left: 1000,
    };
    copy_then_discard(&mut from, &mut to);
    assert_eq!(to.got, &input[..1000]);
    assert_eq!(from.position() as usize, input.len(), "all was read");

    let mut from = std::io::Cursor::new(b"short answer\n".to_vec());
    let mut to = Vec::new();
    copy_then_discard(&mut from, &mut to);
    assert_eq!(to, b"short answer\n");
}

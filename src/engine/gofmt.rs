//! Go's `fmt` (`Sprint`, `Sprintln`, `Sprintf`) over template values, as a
//! Go template's `print`, `println` and `printf` produce it: verbs, flags,
//! width, precision, `%!verb(type=value)` error text, float formatting,
//! `%q` quoting of non-printable runes, and the gateway's data printed as
//! the pointer to a struct it is in Go.
//!
//! gotmpl's own versions differ in many of these (its floats print as Rust
//! does, `1000000` for Go's `1e+06`), so ours are registered over them
//! (`gotmpl_difference_printf_*` in `gocompat`). Written from Go's `fmt`
//! documentation and its observed output (`tests/conformance-rich`,
//! `tests/differential/`).

use std::fmt::Write as _;

use crate::escape::go_is_print;
use gotmpl::{SafeKind, Value};

/// The Go type the gateway's data has: a pointer to its error struct.
const DATA_TYPE: &str = "*main.apiError";

/// The field the gateway's struct holds; printed first, as declared.
const FIRST_FIELD: &str = "Message";

/// Go's name of a value's type, as `%T` prints it.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        // Unsigned values here are a string's bytes (`index`), or literals
        // past the int64 range, which Go reads as uint64.
        Value::Uint(n) if *n <= 255 => "uint8",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => DATA_TYPE,
        Value::Function(_) => "func",
        Value::Safe { kind, .. } => match kind {
            SafeKind::Html => "template.HTML",
            SafeKind::HtmlAttr => "template.HTMLAttr",
            SafeKind::Js => "template.JS",
            SafeKind::JsStr => "template.JSStr",
            SafeKind::Css => "template.CSS",
            SafeKind::Url => "template.URL",
            SafeKind::Srcset => "template.Srcset",
        },
    }
}

fn is_stringish(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Safe { .. })
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
/// `pointer`: the data prints as the pointer it is (`&{x}`), or as the
/// struct (`{x}`) where Go indirects first (`html`, `js`, `urlquery`).
pub(crate) fn sprint(args: &[Value], pointer: bool) -> String {
    let mut p = Printer::default();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !is_stringish(arg) && !is_stringish(&args[i - 1]) {
            p.out.push(' ');
        }
        p.print_arg(arg, 'v', pointer);
    }
    p.out
}

/// Go's `fmt.Sprintln`: operands always spaced, and a final newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            p.out.push(' ');
        }
        p.print_arg(arg, 'v', true);
    }
    p.out.push('\n');
    p.out
}

/// How a template action prints a value on its own (`{{.}}`): Go's
/// `fmt.Fprint` after indirecting a pointer, so the data is `{x}`.
pub(crate) fn print_value(v: &Value) -> String {
    let mut p = Printer::default();
    p.print_arg(v, 'v', false);
    p.out
}

/// Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    let bytes = format.as_bytes();
    let end = bytes.len();
    let mut i = 0;
    let mut arg_num = 0;
    let mut reordered = false;
    while i < end {
        let start = i;
        while i < end && bytes[i] != b'%' {
            i += 1;
        }
        p.out.push_str(&format[start..i]);
        if i >= end {
            break;
        }
        i += 1;
        p.flags = Flags::default();
        while i < end {
            match bytes[i] {
                b'#' => p.flags.sharp = true,
                b'0' => p.flags.zero = true,
                b'+' => p.flags.plus = true,
                b'-' => p.flags.minus = true,
                b' ' => p.flags.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_arg_num = true;
        let mut after_index;
        (arg_num, i, after_index, good_arg_num) =
            arg_number(arg_num, format, i, args.len(), good_arg_num, &mut reordered);
        if i < end && bytes[i] == b'*' {
            i += 1;
            let (n, ok, next) = int_from_arg(args, arg_num);
            arg_num = next;
            p.flags.wid = n;
            p.flags.wid_present = ok;
            if !ok {
                p.out.push_str("%!(BADWIDTH)");
            }
            if p.flags.wid < 0 {
                p.flags.wid = -p.flags.wid;
                p.flags.minus = true;
            }
            after_index = false;
        } else {
            let (n, ok, next) = parse_num(bytes, i);
            p.flags.wid = n;
            p.flags.wid_present = ok;
            i = next;
            if after_index && ok {
                good_arg_num = false;
            }
        }
        if i + 1 < end && bytes[i] == b'.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index, good_arg_num) =
                arg_number(arg_num, format, i, args.len(), good_arg_num, &mut reordered);
            if i < end && bytes[i] == b'*' {
                i += 1;
                let (n, ok, next) = int_from_arg(args, arg_num);
                arg_num = next;
                p.flags.prec = n;
                p.flags.prec_present = ok;
                if n < 0 {
                    p.flags.prec = 0;
                    p.flags.prec_present = false;
                }
                if !ok {
                    p.out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (n, ok, next) = parse_num(bytes, i);
                i = next;
                p.flags.prec = if ok { n } else { 0 };
                p.flags.prec_present = true;
            }
        }
        if !after_index {
            (arg_num, i, _, good_arg_num) =
                arg_number(arg_num, format, i, args.len(), good_arg_num, &mut reordered);
        }
        if i >= end {
            p.out.push_str("%!(NOVERB)");
            break;
        }
        let Some(verb) = format[i..].chars().next() else {
            break;
        };
        i += verb.len_utf8();
        if verb == '%' {
            p.out.push('%');
        } else if !good_arg_num {
            let _ = write!(p.out, "%!{verb}(BADINDEX)");
        } else if arg_num >= args.len() {
            let _ = write!(p.out, "%!{verb}(MISSING)");
        } else {
            if verb == 'v' {
                p.flags.sharp_v = p.flags.sharp;
                p.flags.sharp = false;
                p.flags.plus_v = p.flags.plus;
                p.flags.plus = false;
            }
            p.print_arg(&args[arg_num], verb, true);
            arg_num += 1;
        }
    }
    if !reordered && arg_num < args.len() {
        p.flags = Flags::default();
        p.out.push_str("%!(EXTRA ");
        for (n, arg) in args[arg_num..].iter().enumerate() {
            if n > 0 {
                p.out.push_str(", ");
            }
            if matches!(arg, Value::Nil) {
                p.out.push_str("<nil>");
            } else {
                p.out.push_str(type_name(arg));
                p.out.push('=');
                p.print_arg(arg, 'v', true);
            }
        }
        p.out.push(')');
    }
    p.out
}

/// `[n]` after the flags: an explicit argument index.
fn arg_number(
    arg_num: usize,
    format: &str,
    i: usize,
    num_args: usize,
    good: bool,
    reordered: &mut bool,
) -> (usize, usize, bool, bool) {
    let bytes = format.as_bytes();
    if i >= bytes.len() || bytes[i] != b'[' {
        return (arg_num, i, false, good);
    }
    *reordered = true;
    for j in i + 1..bytes.len() {
        if bytes[j] == b']' {
            let (n, ok, next) = parse_num(bytes, i + 1);
            if !ok || next != j {
                return (arg_num, j + 1, false, false);
            }
            let n = usize::try_from(n - 1).ok().filter(|n| *n < num_args);
            return match n {
                Some(n) => (n, j + 1, true, good),
                None => (arg_num, j + 1, true, false),
            };
        }
    }
    (arg_num, i + 1, false, false)
}

fn parse_num(bytes: &[u8], mut i: usize) -> (i64, bool, usize) {
    let start = i;
    let mut n: i64 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        // Go refuses absurd widths as BADWIDTH; capping keeps memory bounded.
        if n > 1_000_000 {
            return (0, false, i);
        }
        n = n * 10 + i64::from(bytes[i] - b'0');
        i += 1;
    }
    (n, i > start, i)
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    match args.get(arg_num) {
        Some(Value::Int(n)) if n.unsigned_abs() <= 1_000_000 => (*n, true, arg_num + 1),
        Some(Value::Uint(n)) if *n <= 1_000_000 => (*n as i64, true, arg_num + 1),
        Some(_) => (0, false, arg_num + 1),
        None => (0, false, arg_num),
    }
}

#[derive(Default, Clone, Copy)]
struct Flags {
    sharp: bool,
    zero: bool,
    plus: bool,
    minus: bool,
    space: bool,
    sharp_v: bool,
    plus_v: bool,
    wid: i64,
    wid_present: bool,
    prec: i64,
    prec_present: bool,
}

#[derive(Default)]
struct Printer {
    out: String,
    flags: Flags,
}

impl Printer {
    fn write_padding(&mut self, n: i64) {
        let pad = if self.flags.zero && !self.flags.minus {
            '0'
        } else {
            ' '
        };
        for _ in 0..n.max(0) {
            self.out.push(pad);
        }
    }

    fn pad(&mut self, s: &str) {
        if !self.flags.wid_present || self.flags.wid == 0 {
            self.out.push_str(s);
            return;
        }
        let width = self.flags.wid - crate::rawbytes::rune_count(s) as i64;
        if self.flags.minus {
            self.out.push_str(s);
            self.write_padding(width);
        } else {
            self.write_padding(width);
            self.out.push_str(s);
        }
    }

    /// Pads with spaces even under the `0` flag.
    fn pad_spaces(&mut self, s: &str) {
        let zero = std::mem::replace(&mut self.flags.zero, false);
        self.pad(s);
        self.flags.zero = zero;
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        let _ = write!(self.out, "%!{verb}(");
        if matches!(v, Value::Nil) {
            self.out.push_str("<nil>");
        } else {
            self.out.push_str(type_name(v));
            self.out.push('=');
            self.print_arg(v, 'v', true);
        }
        self.out.push(')');
    }

    /// `pointer`: a map is the data, printed `&{...}` as the pointer it is
    /// in Go (false where Go indirects first, as an action does).
    fn print_arg(&mut self, v: &Value, verb: char, pointer: bool) {
        if verb == 'T' {
            self.fmt_s(type_name(v));
            return;
        }
        match v {
            Value::Nil => match verb {
                'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, v),
            },
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(n) => self.fmt_integer(n.unsigned_abs(), *n < 0, verb, v),
            Value::Uint(n) => self.fmt_integer(*n, false, verb, v),
            Value::Float(f) => self.fmt_float_verb(*f, verb, v),
            Value::String(s) | Value::Safe { s, .. } => self.fmt_string(s, verb, v),
            Value::Map(m) => {
                if verb == 'p' {
                    // An address: no stable bytes to match.
                    self.bad_verb(verb, v);
                    return;
                }
                if pointer {
                    self.out.push('&');
                }
                if self.flags.sharp_v {
                    self.out.push_str(DATA_TYPE.trim_start_matches('*'));
                }
                self.out.push('{');
                // Only the gateway's one field: what else the map holds
                // (StatusCode, Title ...) is reachable by name alone.
                if let Some(field) = m.get(FIRST_FIELD) {
                    if self.flags.plus_v || self.flags.sharp_v {
                        self.out.push_str(FIRST_FIELD);
                        self.out.push(':');
                    }
                    self.print_arg(field, verb, false);
                }
                self.out.push('}');
            }
            Value::List(items) => {
                self.out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        self.out.push(' ');
                    }
                    self.print_arg(item, verb, false);
                }
                self.out.push(']');
            }
            Value::Function(_) => self.bad_verb(verb, v),
        }
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(&s);
    }

    fn truncate<'s>(&self, s: &'s str) -> std::borrow::Cow<'s, str> {
        if self.flags.prec_present {
            let prec = usize::try_from(self.flags.prec).unwrap_or(0);
            return crate::rawbytes::first_runes(s, prec);
        }
        std::borrow::Cow::Borrowed(s)
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' if self.flags.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' => self.fmt_sx(&crate::rawbytes::go_bytes(s), b"0123456789abcdefx"),
            'X' => self.fmt_sx(&crate::rawbytes::go_bytes(s), b"0123456789ABCDEFX"),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_sx(&mut self, s: &[u8], digits: &[u8; 17]) {
        let mut length = s.len() as i64;
        if self.flags.prec_present && self.flags.prec < length {
            length = self.flags.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.flags.space {
                if self.flags.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.flags.sharp {
                width += 2;
            }
        } else {
            if self.flags.wid_present {
                self.write_padding(self.flags.wid);
            }
            return;
        }
        if self.flags.wid_present && self.flags.wid > width && !self.flags.minus {
            self.write_padding(self.flags.wid - width);
        }
        let prefix = |out: &mut String| {
            out.push('0');
            out.push(char::from(digits[16]));
        };
        if self.flags.sharp {
            prefix(&mut self.out);
        }
        for (i, c) in s.iter().take(length as usize).enumerate() {
            if self.flags.space && i > 0 {
                self.out.push(' ');
                if self.flags.sharp {
                    prefix(&mut self.out);
                }
            }
            self.out.push(char::from(digits[usize::from(c >> 4)]));
            self.out.push(char::from(digits[usize::from(c & 0xF)]));
        }
        if self.flags.wid_present && self.flags.wid > width && self.flags.minus {
            self.write_padding(self.flags.wid - width);
        }
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.flags.sharp && can_backquote(&s) {
            let quoted = format!("`{s}`");
            self.pad(&quoted);
        } else {
            let quoted = quote(&s, '"', self.flags.plus);
            self.pad(&quoted);
        }
    }

    fn fmt_integer(&mut self, u: u64, negative: bool, verb: char, v: &Value) {
        let (base, digits): (u64, &[u8; 17]) = match verb {
            'v' | 'd' => (10, b"0123456789abcdefx"),
            'b' => (2, b"0123456789abcdefx"),
            'o' | 'O' => (8, b"0123456789abcdefx"),
            'x' => (16, b"0123456789abcdefx"),
            'X' => (16, b"0123456789ABCDEFX"),
            'c' => {
                let c = u32::try_from(u)
                    .ok()
                    .filter(|_| !negative)
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                self.pad(c.encode_utf8(&mut [0; 4]));
                return;
            }
            'q' => {
                let c = u32::try_from(u)
                    .ok()
                    .filter(|_| !negative)
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let quoted = quote(c.encode_utf8(&mut [0; 4]), '\'', self.flags.plus);
                self.pad(&quoted);
                return;
            }
            'U' => {
                self.fmt_unicode(u, negative);
                return;
            }
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        let mut prec: i64 = 0;
        if self.flags.prec_present {
            prec = self.flags.prec;
            if prec == 0 && u == 0 {
                let zero = std::mem::replace(&mut self.flags.zero, false);
                self.write_padding(self.flags.wid);
                self.flags.zero = zero;
                return;
            }
        } else if self.flags.zero && !self.flags.minus && self.flags.wid_present {
            prec = self.flags.wid;
            if negative || self.flags.plus || self.flags.space {
                prec -= 1;
            }
        }
        let mut buf: Vec<u8> = Vec::new();
        let mut n = u;
        loop {
            buf.push(digits[(n % base) as usize]);
            n /= base;
            if n == 0 {
                break;
            }
        }
        while (buf.len() as i64) < prec {
            buf.push(b'0');
        }
        if self.flags.sharp {
            match base {
                2 => buf.extend_from_slice(b"b0"),
                8 if buf.last() != Some(&b'0') => buf.push(b'0'),
                16 => {
                    buf.push(digits[16]);
                    buf.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            buf.extend_from_slice(b"o0");
        }
        if negative {
            buf.push(b'-');
        } else if self.flags.plus {
            buf.push(b'+');
        } else if self.flags.space {
            buf.push(b' ');
        }
        buf.reverse();
        let s = String::from_utf8_lossy(&buf).into_owned();
        self.pad_spaces(&s);
    }

    fn fmt_unicode(&mut self, u: u64, negative: bool) {
        // Go prints the rune's bits as an unsigned number.
        let u = if negative { u.wrapping_neg() } else { u };
        let prec = if self.flags.prec_present && self.flags.prec > 4 {
            self.flags.prec as usize
        } else {
            4
        };
        let mut s = format!("U+{u:0prec$X}");
        if self.flags.sharp
            && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
            && go_is_print(c)
        {
            let _ = write!(s, " '{c}'");
        }
        self.pad_spaces(&s);
    }

    fn fmt_float_verb(&mut self, f: f64, verb: char, v: &Value) {
        match verb {
            'v' => self.fmt_float(f, 'g', -1),
            'g' | 'G' => self.fmt_float(f, verb, -1),
            'f' | 'F' | 'e' | 'E' => self.fmt_float(f, verb, 6),
            'x' | 'X' | 'b' => self.fmt_float(f, verb, -1),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_float(&mut self, f: f64, verb: char, default_prec: i64) {
        let prec = if self.flags.prec_present {
            self.flags.prec
        } else {
            default_prec
        };
        let formatted = format_float(f, verb, prec);
        let mut num: Vec<char> = Vec::with_capacity(formatted.len() + 1);
        if formatted.starts_with('-') || formatted.starts_with('+') {
            num.extend(formatted.chars());
        } else {
            num.push('+');
            num.extend(formatted.chars());
        }
        if self.flags.space && num[0] == '+' && !self.flags.plus {
            num[0] = ' ';
        }
        if num[1] == 'I' || num[1] == 'N' {
            let zero = std::mem::replace(&mut self.flags.zero, false);
            let start = usize::from(num[1] == 'N' && !self.flags.space && !self.flags.plus);
            let s: String = num[start..].iter().collect();
            self.pad(&s);
            self.flags.zero = zero;
            return;
        }
        if self.flags.sharp {
            let mut digits = match verb {
                'v' | 'g' | 'G' | 'x' | 'X' => {
                    if prec == -1 {
                        6
                    } else {
                        prec
                    }
                }
                _ => 0,
            };
            let mut tail: Vec<char> = Vec::new();
            let mut has_point = false;
            let mut saw_nonzero = false;
            let mut i = 1;
            while i < num.len() {
                match num[i] {
                    '.' => has_point = true,
                    'p' | 'P' => {
                        tail = num.split_off(i);
                        break;
                    }
                    'e' | 'E' if verb != 'x' && verb != 'X' => {
                        tail = num.split_off(i);
                        break;
                    }
                    c => {
                        if c != '0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                i += 1;
            }
            if !has_point {
                if num.len() == 2 && num[1] == '0' {
                    digits -= 1;
                }
                num.push('.');
            }
            while digits > 0 {
                num.push('0');
                digits -= 1;
            }
            num.extend(tail);
        }
        let s: String = num.iter().collect();
        if self.flags.plus || num[0] != '+' {
            if self.flags.zero
                && !self.flags.minus
                && self.flags.wid_present
                && self.flags.wid > num.len() as i64
            {
                self.out.push(num[0]);
                self.write_padding(self.flags.wid - num.len() as i64);
                self.out.push_str(&s[num[0].len_utf8()..]);
                return;
            }
            self.pad(&s);
            return;
        }
        self.pad(&s[1..]);
    }
}

/// The decimal digits of a float (no leading or trailing zeros) and the
/// place of the decimal point, rounded as `verb` and `prec` ask.
fn decimal(f: f64, verb: char, prec: i64) -> (Vec<u8>, i64) {
    let text = if prec < 0 {
        format!("{f:e}")
    } else {
        match verb {
            'e' | 'E' => format!("{f:.*e}", prec as usize),
            'f' | 'F' => format!("{f:.*}", prec as usize),
            _ => format!("{f:.*e}", (prec.max(1) - 1) as usize),
        }
    };
    let (mantissa, exp) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let point = mantissa.find('.').unwrap_or(mantissa.len()) as i64;
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut dp = point + exp;
    while digits.first() == Some(&b'0') {
        digits.remove(0);
        dp -= 1;
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        dp = 0;
    }
    (digits, dp)
}

/// Go's `strconv.FormatFloat(f, verb, prec, 64)` for `e`, `E`, `f`, `F`,
/// `g` and `G`.
pub(crate) fn format_float(f: f64, verb: char, prec: i64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let neg = f.is_sign_negative();
    if matches!(verb, 'x' | 'X' | 'b') {
        let body = binary_float(f.abs(), verb, prec);
        return if neg { format!("-{body}") } else { body };
    }
    let (digits, dp) = decimal(f.abs(), verb, prec);
    let nd = digits.len() as i64;
    let shortest = prec < 0;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    match verb {
        'e' | 'E' => {
            let prec = if shortest { (nd - 1).max(0) } else { prec };
            fmt_e(&mut out, &digits, dp, prec, verb);
        }
        'f' | 'F' => {
            let prec = if shortest { (nd - dp).max(0) } else { prec };
            fmt_f(&mut out, &digits, dp, prec);
        }
        _ => {
            let mut prec = if shortest {
                nd
            } else if prec == 0 {
                1
            } else {
                prec
            };
            let mut eprec = prec;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            let e = if verb == 'G' { 'E' } else { 'e' };
            if nd > 0 && (exp < -4 || exp >= eprec) {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, &digits, dp, (prec - 1).max(0), e);
            } else if nd == 0 {
                // Zero: Go's %g writes "0".
                out.push('0');
            } else {
                if prec > dp {
                    prec = nd;
                }
                fmt_f(&mut out, &digits, dp, (prec - dp).max(0));
            }
        }
    }
    out
}

/// Go's `%b` (`7881299347898368p-51`) and `%x` (`0x1.cp+01`) of a
/// non-negative finite float; `prec` hexadecimal digits after the point
/// (rounded half to even), or as few as exact when negative.
fn binary_float(f: f64, verb: char, prec: i64) -> String {
    let bits = f.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1 << 52) - 1);
    let mut exp = if raw_exp == 0 {
        -1074
    } else {
        mant |= 1 << 52;
        raw_exp - 1075
    };
    if verb == 'b' {
        return format!("{mant}p{}{exp}", if exp >= 0 { "+" } else { "" });
    }
    if mant == 0 {
        exp = 0;
    } else {
        // Normalise so the leading 1 sits at bit 60.
        while mant < (1 << 60) {
            mant <<= 1;
            exp -= 1;
        }
        exp += 60;
    }
    if (0..15).contains(&prec) {
        let shift = 60 - 4 * prec as u32;
        let extra = mant & ((1u64 << shift) - 1);
        mant >>= shift;
        let half = 1u64 << (shift - 1);
        if extra > half || (extra == half && mant & 1 == 1) {
            mant += 1;
        }
        mant <<= shift;
        if mant >= 1 << 61 {
            mant >>= 1;
            exp += 1;
        }
    }
    let digits = if verb == 'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::from(if verb == 'X' { "0X" } else { "0x" });
    out.push(char::from(b'0' + ((mant >> 60) & 1) as u8));
    let mut frac = mant << 4;
    let mut hex = String::new();
    let count = if prec < 0 { 15 } else { prec.min(15) };
    for _ in 0..count {
        hex.push(char::from(digits[((frac >> 60) & 0xF) as usize]));
        frac <<= 4;
    }
    if prec < 0 {
        while hex.ends_with('0') {
            hex.pop();
        }
    }
    if !hex.is_empty() {
        out.push('.');
        out.push_str(&hex);
    }
    out.push(if verb == 'X' { 'P' } else { 'p' });
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exp.abs());
    out
}

fn fmt_e(out: &mut String, d: &[u8], dp: i64, prec: i64, e: char) {
    out.push(d.first().map_or('0', |c| char::from(*c)));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let c = d.get(i as usize).copied().unwrap_or(b'0');
            out.push(char::from(c));
        }
    }
    out.push(e);
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.abs();
    if exp < 10 {
        out.push('0');
    }
    let _ = write!(out, "{exp}");
}

fn fmt_f(out: &mut String, d: &[u8], dp: i64, prec: i64) {
    if dp > 0 {
        for i in 0..dp {
            out.push(char::from(d.get(i as usize).copied().unwrap_or(b'0')));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = dp + i - 1;
            let c = if j >= 0 {
                d.get(j as usize).copied().unwrap_or(b'0')
            } else {
                b'0'
            };
            out.push(char::from(c));
        }
    }
}

/// Go's `strconv.Quote` (`"`) or `QuoteRune` (`'`); `ascii`: the
/// `...ToASCII` forms.
pub(crate) fn quote(s: &str, q: char, ascii: bool) -> String {
    use crate::rawbytes::Rune;
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    crate::rawbytes::for_each_rune(s, |r| match r {
        Rune::Char(c) => quote_char(&mut out, c, q, ascii),
        // A byte that is not UTF-8 (a cut character).
        Rune::Byte(b) => {
            let _ = write!(out, "\\x{b:02x}");
        }
    });
    out.push(q);
    out
}

fn quote_char(out: &mut String, c: char, q: char, ascii: bool) {
    if c == q || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if if ascii {
        c.is_ascii() && go_is_print(c)
    } else {
        go_is_print(c)
    } {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go's `strconv.CanBackquote`.
fn can_backquote(s: &str) -> bool {
    // Go refuses invalid UTF-8, which a byte standing for itself is.
    !crate::rawbytes::has_mapped(s)
        && s.chars()
            .all(|c| !((c < ' ' && c != '\t') || c == '`' || c == '\u{7f}' || c == '\u{feff}'))
}

#[cfg(test)]
mod tests {
    //! Expected strings are Go 1.26.5's (`fmt.Sprintf` with the same
    //! arguments).
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn data() -> Value {
        let html = Value::Safe {
            kind: SafeKind::Html,
            s: "x".into(),
        };
        Value::Map(Arc::new(BTreeMap::from([(Arc::from("Message"), html)])))
    }

    #[test]
    fn verbs_flags_width_and_precision_as_go() {
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "%+v|%+d|%05s|%-05d",
                vec![Value::Int(5), Value::Int(5), s("ab"), Value::Int(3)],
                "5|+5|000ab|3    ",
            ),
            (
                "%v|%+v|%#v|%T|%d|%x",
                vec![data(), data(), data(), data(), data(), data()],
                "&{x}|&{Message:x}|&main.apiError{Message:\"x\"}|*main.apiError|&{%!d(template.HTML=x)}|&{78}",
            ),
            (
                "% x|%#x|%6.2v|%.2q|%q|%5%|%!|%z",
                vec![
                    s("ab"),
                    s("ab"),
                    Value::Float(3.14158),
                    s("abc"),
                    s("a\u{a0}\u{2028}"),
                    Value::Int(1),
                ],
                "61 62|0x6162|   3.1|\"ab\"|\"a\\u00a0\\u2028\"|%|%!!(int=1)|%!z(MISSING)",
            ),
            (
                "%v %v %v %v %e %g %.3g %#g %#v",
                vec![
                    Value::Float(1e6),
                    Value::Float(1e21),
                    Value::Float(1e20),
                    Value::Float(1.5e-5),
                    Value::Float(123.456),
                    Value::Float(100000.0),
                    Value::Float(1.0),
                    Value::Float(1.0),
                    Value::Float(1.0),
                ],
                "1e+06 1e+21 1e+20 1.5e-05 1.234560e+02 100000 1 1.00000 1",
            ),
            (
                "%c|%q|%U|%#U|%08.3f|%+.2e|% d|%x|%X|%o|%O|%b|%t|%5t",
                vec![
                    Value::Int(65),
                    Value::Int(0x1F600),
                    Value::Int(0x2028),
                    Value::Int(65),
                    Value::Float(-3.14158),
                    Value::Float(12345.678),
                    Value::Int(5),
                    Value::Int(-255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(8),
                    Value::Int(5),
                    Value::Bool(true),
                    Value::Bool(false),
                ],
                "A|'😀'|U+2028|U+0041 'A'|-003.142|+1.23e+04| 5|-ff|FF|10|0o10|101|true|false",
            ),
            (
                "%d %s",
                vec![
                    Value::Safe {
                        kind: SafeKind::Html,
                        s: "x".into(),
                    },
                    Value::Int(5),
                ],
                "%!d(template.HTML=x) %!s(int=5)",
            ),
            (
                "%d",
                vec![Value::Int(1), Value::Int(2), s("x")],
                "1%!(EXTRA int=2, string=x)",
            ),
            (
                "%*d|%-*d|%.*f",
                vec![
                    Value::Int(5),
                    Value::Int(1),
                    Value::Int(3),
                    Value::Int(2),
                    Value::Int(2),
                    Value::Float(3.14158),
                ],
                "    1|2  |3.14",
            ),
            ("%", vec![], "%!(NOVERB)"),
            (
                "%x|%X|%b|%x|%x|%x|%.2x|%x|%#x",
                vec![
                    Value::Float(3.5),
                    Value::Float(3.5),
                    Value::Float(3.5),
                    Value::Float(0.0),
                    Value::Float(1.0),
                    Value::Float(-0.1),
                    Value::Float(3.14158),
                    Value::Float(1e-310),
                    Value::Float(3.5),
                ],
                "0x1.cp+01|0X1.CP+01|7881299347898368p-51|0x0p+00|0x1p+00|-0x1.999999999999ap-04|0x1.92p+01|0x1.2688b70e62bp-1030|0x1.c000p+01",
            ),
        ];
        for (format, args, want) in cases {
            assert_eq!(sprintf(format, &args), want, "{format}");
        }
    }

    #[test]
    fn print_spaces_operands_as_go() {
        let args = [
            Value::Int(1),
            Value::Int(2),
            s("a"),
            s("b"),
            Value::Int(3),
            Value::Nil,
            Value::Float(1e6),
        ];
        assert_eq!(sprint(&args, true), "1 2ab3 <nil> 1e+06");
        assert_eq!(sprintln(&args), "1 2 a b 3 <nil> 1e+06\n");
        assert_eq!(print_value(&data()), "{x}");
    }
}

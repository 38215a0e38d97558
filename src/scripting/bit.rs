//! The `bit` library (LuaBitOp 1.0, as Redis ships it): 32-bit operations on Lua numbers,
//! results as signed 32-bit numbers.

use mlua::{Lua, MultiValue, Result, Table, Value};

use super::api::{to_number, type_name};
use super::errors::arg_error;

/// LuaBitOp's conversion: the number rounded (ties to even) and taken modulo 2^32, done as
/// LuaBitOp does it, by adding 2^52 + 2^51 and keeping the low word of the double.
pub fn tobit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

fn arg(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> Result<i32> {
    match args.get(n - 1) {
        Some(v @ (Value::Integer(_) | Value::Number(_) | Value::String(_))) if to_number(v).is_some() => {
            Ok(tobit(to_number(v).unwrap_or(0.0)))
        }
        other => Err(arg_error(lua, n, name, &format!("number expected, got {}", other.map_or("no value", type_name)))),
    }
}

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("tobit", lua.create_function(|lua, a: MultiValue| Ok(f64::from(arg(lua, &a, 1, "tobit")?)))?)?;
    t.raw_set("bnot", lua.create_function(|lua, a: MultiValue| Ok(f64::from(!arg(lua, &a, 1, "bnot")?)))?)?;
    type Fold = fn(i32, i32) -> i32;
    for (name, op) in
        [("band", (|a, b| a & b) as Fold), ("bor", (|a, b| a | b) as Fold), ("bxor", (|a, b| a ^ b) as Fold)]
    {
        t.raw_set(
            name,
            lua.create_function(move |lua, a: MultiValue| {
                let mut acc = arg(lua, &a, 1, name)?;
                for i in 2..=a.len() {
                    acc = op(acc, arg(lua, &a, i, name)?);
                }
                Ok(f64::from(acc))
            })?,
        )?;
    }
    type Shift = fn(i32, u32) -> i32;
    for (name, op) in [
        ("lshift", (|x: i32, n| ((x as u32) << n) as i32) as Shift),
        ("rshift", (|x: i32, n| ((x as u32) >> n) as i32) as Shift),
        ("arshift", (|x: i32, n| x >> n) as Shift),
        ("rol", (|x: i32, n| (x as u32).rotate_left(n) as i32) as Shift),
        ("ror", (|x: i32, n| (x as u32).rotate_right(n) as i32) as Shift),
    ] {
        t.raw_set(
            name,
            lua.create_function(move |lua, a: MultiValue| {
                let x = arg(lua, &a, 1, name)?;
                let n = (arg(lua, &a, 2, name)? as u32) & 31;
                Ok(f64::from(op(x, n)))
            })?,
        )?;
    }
    t.raw_set(
        "bswap",
        lua.create_function(|lua, a: MultiValue| Ok(f64::from(arg(lua, &a, 1, "bswap")?.swap_bytes())))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|lua, a: MultiValue| {
            let mut b = arg(lua, &a, 1, "tohex")? as u32;
            let mut n = if a.len() >= 2 && !a[1].is_nil() { arg(lua, &a, 2, "tohex")? } else { 8 };
            let digits: &[u8; 16] = if n < 0 {
                n = n.wrapping_neg();
                b"0123456789ABCDEF"
            } else {
                b"0123456789abcdef"
            };
            let n = n.clamp(0, 8) as usize;
            let mut buf = vec![0u8; n];
            for i in (0..n).rev() {
                buf[i] = digits[(b & 15) as usize];
                b >>= 4;
            }
            lua.create_string(buf)
        })?,
    )?;
    Ok(t)
}

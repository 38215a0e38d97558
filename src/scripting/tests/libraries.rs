//! cjson, cmsgpack, bit and struct.

use super::*;
use crate::scripting::*;

// ---- cjson ----------------------------------------------------------------------------------

#[test]
fn cjson_encode() {
    assert_eq!(eval("return cjson.encode({1,2,{a=1}})"), bulk("[1,2,{\"a\":1}]"));
    assert_eq!(eval("return cjson.encode({})"), bulk("{}"));
    assert_eq!(eval("return cjson.encode('a/b\"\\1\\127é')"), bulk("\"a\\/b\\\"\\u0001\\u007fé\""));
    assert_eq!(eval("return cjson.encode(1/3)"), bulk("0.33333333333333"));
    assert_eq!(eval("return cjson.encode(1e20)"), bulk("1e+20"));
    assert_eq!(eval("return cjson.encode(12345678901234567)"), bulk("1.2345678901235e+16"));
    assert_eq!(eval("return cjson.encode({[1]=1,[3]=2})"), bulk("[1,null,2]"));
    assert_eq!(eval("return cjson.encode(cjson.null)"), bulk("null"));
    assert_eq!(eval("return cjson.encode(true)"), bulk("true"));
    assert_eq!(eval("return cjson.encode({a={b={c='d'}}})"), bulk("{\"a\":{\"b\":{\"c\":\"d\"}}}"));
    assert_eq!(eval("return cjson.encode({[5]='x', [1]='y'})"), bulk("[\"y\",null,null,null,\"x\"]"));
    assert_script_error(
        "return cjson.encode(0/0)",
        "ERR user_script:1: Cannot serialise number: must not be NaN or Inf",
    );
    assert_script_error(
        "return cjson.encode({[1]=1,[20]=2})",
        "ERR user_script:1: Cannot serialise table: excessively sparse array",
    );
    assert_script_error(
        "return cjson.encode(function() end)",
        "ERR user_script:1: Cannot serialise function: type not supported",
    );
    assert_script_error(
        "return cjson.encode({[true]=1})",
        "ERR user_script:1: Cannot serialise boolean: table key must be a number or string",
    );
}

#[test]
fn cjson_decode() {
    assert_eq!(eval("return cjson.decode('[1,2,null]')[3] == cjson.null"), Reply::Int(1));
    assert_eq!(eval("return tostring(cjson.decode('{\"a\":[1,2.5,\"x\"]}').a[2])"), bulk("2.5"));
    assert_eq!(eval("return tostring(cjson.decode('1e2'))"), bulk("100"));
    assert_eq!(eval("return cjson.decode('\"\\\\u00e9\"')"), bulk("é"));
    assert_eq!(eval("return cjson.decode('\"\\\\ud83d\\\\ude00\"')"), bulk("😀"));
    assert_eq!(eval("return cjson.decode(' {\"k\" : {\"n\": true}} ').k.n"), Reply::Int(1));
    assert_eq!(eval("return cjson._VERSION"), bulk("2.1.0"));
    assert_script_error(
        "return cjson.decode('x')",
        "ERR user_script:1: Expected value but found invalid token at character 1",
    );
    assert_script_error(
        "return cjson.decode('[1,2')",
        "ERR user_script:1: Expected comma or array end but found T_END at character 5",
    );
    assert_script_error(
        "return cjson.decode('{\"a\" 1}')",
        "ERR user_script:1: Expected colon but found T_NUMBER at character 6",
    );
    assert_script_error(
        "return cjson.decode('[1] x')",
        "ERR user_script:1: Expected the end but found invalid token at character 5",
    );
    // Through pcall the error has no position, as the caller is a C function.
    assert_eq!(
        eval("local ok, e = pcall(cjson.decode, 'x') return e"),
        bulk("Expected value but found invalid token at character 1")
    );
    assert_eq!(
        eval("local t = cjson.decode(cjson.encode({a={1,2,3}, b='x'})) return {t.a[3], t.b}"),
        Reply::Array(vec![Reply::Int(3), bulk("x")])
    );
}

// ---- cmsgpack -------------------------------------------------------------------------------

#[test]
fn cmsgpack_pack_unpack() {
    let hex = |script: &str| {
        eval(&format!("local s = {script} local o = {{}} for i = 1, #s do o[i] = string.format('%02x', s:byte(i)) end return table.concat(o)"))
    };
    assert_eq!(
        hex("cmsgpack.pack(1, -1, 200, -200, 70000, 1.5, 'ab', true, nil)"),
        bulk("01ffccc8d1ff38ce00011170ca3fc00000a26162c3c0")
    );
    assert_eq!(hex("cmsgpack.pack({1,2,3})"), bulk("93010203"));
    assert_eq!(hex("cmsgpack.pack({})"), bulk("90"));
    assert_eq!(hex("cmsgpack.pack({a=1})"), bulk("81a16101"));
    assert_eq!(hex("cmsgpack.pack(0.1)"), bulk("cb3fb999999999999a"));
    assert_eq!(hex("cmsgpack.pack(4294967296)"), bulk("cf0000000100000000"));
    assert_eq!(
        hex("cmsgpack.pack(-40000, -3000000000, 1e300)"),
        bulk("d2ffff63c0d3ffffffff4d2fa200cb7e37e43c8800759c")
    );
    assert_eq!(hex("cmsgpack.pack({1,nil,3})"), bulk("8201010303"));
    assert_eq!(hex("cmsgpack.pack({[1]=1,[2]=2,x=3})"), bulk("8301010202a17803"));
    assert_eq!(hex("cmsgpack.pack(string.rep('x', 40))"), bulk(&format!("d928{}", "78".repeat(40))));
    assert_eq!(
        eval("local a, b, c = cmsgpack.unpack(cmsgpack.pack(1, 'x', {k='v'})) return {a, b, c.k}"),
        Reply::Array(vec![Reply::Int(1), bulk("x"), bulk("v")])
    );
    assert_eq!(
        eval("local t = cmsgpack.unpack(cmsgpack.pack({1, {2, 3}, 'z'})) return {t[1], t[2][2], t[3]}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(3), bulk("z")])
    );
    assert_eq!(
        eval("local s = cmsgpack.pack(1, 2, 3) local n, v = cmsgpack.unpack_one(s) local n2, v2 = cmsgpack.unpack_one(s, n) return {n, v, n2, v2}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1), Reply::Int(2), Reply::Int(2)])
    );
    assert_eq!(
        eval("local s = cmsgpack.pack(1, 2, 3) return {cmsgpack.unpack_limit(s, 3)}"),
        Reply::Array(vec![Reply::Int(-1), Reply::Int(1), Reply::Int(2), Reply::Int(3)])
    );
    let long = "local s = string.rep('x', 40) return cmsgpack.unpack(cmsgpack.pack(s)) == s";
    assert_eq!(eval(long), Reply::Int(1));
    assert_script_error("return cmsgpack.unpack('\\204')", "ERR user_script:1: Missing bytes in input.");
    assert_script_error("return cmsgpack.unpack('\\193')", "ERR user_script:1: Bad data format in input.");
    assert_script_error(
        "return cmsgpack.pack()",
        "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
    );
}

// ---- bit ------------------------------------------------------------------------------------

#[test]
fn bit_operations() {
    let cases = [
        ("bit.tobit(0xffffffff)", Reply::Int(-1)),
        ("bit.tobit(2^32 + 5)", Reply::Int(5)),
        ("bit.bnot(0)", Reply::Int(-1)),
        ("bit.band(0xff, 0x0f, 0x3)", Reply::Int(3)),
        ("bit.bor(1, 2, 4)", Reply::Int(7)),
        ("bit.bxor(5, 3)", Reply::Int(6)),
        ("bit.lshift(1, 31)", Reply::Int(-2147483648)),
        ("bit.lshift(1, 33)", Reply::Int(2)),
        ("bit.rshift(-1, 28)", Reply::Int(15)),
        ("bit.arshift(-256, 4)", Reply::Int(-16)),
        ("bit.rol(0x12345678, 12)", Reply::Int(0x45678123)),
        ("bit.ror(0x12345678, 12)", Reply::Int(0x67812345)),
        ("bit.bswap(0x12345678)", Reply::Int(0x78563412)),
        ("bit.tobit(1.5)", Reply::Int(2)),
        ("bit.tobit(2.5)", Reply::Int(2)),
    ];
    for (expr, expected) in cases {
        assert_eq!(eval(&format!("return {expr}")), expected, "{expr}");
    }
    assert_eq!(eval("return bit.tohex(255)"), bulk("000000ff"));
    assert_eq!(eval("return bit.tohex(-1, -4)"), bulk("FFFF"));
    assert_eq!(eval("return bit.tohex(0x1234, 2)"), bulk("34"));
    assert_eq!(eval("return bit.tohex(1, 10)"), bulk("00000001"));
    assert!(
        matches!(eval("return bit.band('x')"), Reply::Error(e) if e.contains("bad argument #1 to 'band' (number expected, got string)"))
    );
}

// ---- struct ---------------------------------------------------------------------------------

#[test]
fn struct_pack_unpack_size() {
    let hex = |script: &str| {
        eval(&format!("local s = {script} local o = {{}} for i = 1, #s do o[i] = string.format('%02x', s:byte(i)) end return table.concat(o)"))
    };
    assert_eq!(hex("struct.pack('>I2', 258)"), bulk("0102"));
    assert_eq!(hex("struct.pack('<i4', -2)"), bulk("feffffff"));
    assert_eq!(hex("struct.pack('b B h', -1, 255, 1)"), bulk("ffff0100"));
    assert_eq!(hex("struct.pack('>d', 1.5)"), bulk("3ff8000000000000"));
    assert_eq!(hex("struct.pack('s', 'ab')"), bulk("616200"));
    assert_eq!(hex("struct.pack('c3', 'abcdef')"), bulk("616263"));
    assert_eq!(hex("struct.pack('!4 b i4', 1, 2)"), bulk("0100000002000000"));
    assert_eq!(eval("return {struct.unpack('>I2', '\\1\\2')}"), Reply::Array(vec![Reply::Int(258), Reply::Int(3)]));
    assert_eq!(
        eval("return {struct.unpack('<i4', struct.pack('<i4', -7))}"),
        Reply::Array(vec![Reply::Int(-7), Reply::Int(5)])
    );
    assert_eq!(eval("return {struct.unpack('s', 'hi\\0rest')}"), Reply::Array(vec![bulk("hi"), Reply::Int(4)]));
    assert_eq!(
        eval("return {struct.unpack('b c0', struct.pack('b', 3) .. 'xyz')}"),
        Reply::Array(vec![bulk("xyz"), Reply::Int(5)])
    );
    assert_eq!(eval("return tostring(struct.unpack('f', struct.pack('f', 0.5)))"), bulk("0.5"));
    assert_eq!(eval("return {struct.unpack('B', 'ab', 2)}"), Reply::Array(vec![Reply::Int(98), Reply::Int(3)]));
    assert_eq!(eval("return struct.size('>i4 h b d')"), Reply::Int(15));
    assert_script_error(
        "return struct.pack('y', 1)",
        "ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'y')",
    );
    assert_script_error(
        "return struct.size('s')",
        "ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
    );
    assert_script_error(
        "return struct.unpack('i4', 'ab')",
        "ERR user_script:1: bad argument #2 to 'unpack' (data string too short)",
    );
    assert!(matches!(eval("return struct.unpack('i4', 'ab')"), Reply::Error(e) if e.contains("data string too short")));
}

/// Scripts from Redis's own test suite (tests/unit/scripting.tcl) and around it; expected
/// results from redis-server 7.0.15.
#[test]
fn redis_suite_json_smoke() {
    let script = r#"local some_map = { s1="Some string", n1=100, a1={"Some","String","Array"}, nil1=nil, b1=true, b2=false}
local encoded = cjson.encode(some_map)
local decoded = cjson.decode(encoded)
assert(table.concat(some_map) == table.concat(decoded))
cjson.encode_keep_buffer(false)
encoded = cjson.encode(some_map)
decoded = cjson.decode(encoded)
assert(table.concat(some_map) == table.concat(decoded))
local table1 = {one="one", [1]="one"}
encoded = cjson.encode(table1)
decoded = cjson.decode(encoded)
assert(decoded["one"] == table1["one"])
assert(decoded["1"] == table1[1])
local array1 = {[1]="one", [2]="two", [3]="three"}
encoded = cjson.encode(array1)
decoded = cjson.decode(encoded)
assert(table.concat(array1) == table.concat(decoded))
local invalid_map = {}
invalid_map[false] = "false"
local ok, encoded = pcall(cjson.encode, invalid_map)
assert(ok == false)
cjson.encode_max_depth(1)
ok, encoded = pcall(cjson.encode, some_map)
assert(ok == false)
cjson.decode_max_depth(1)
ok, decoded = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}')
assert(ok == false)
return {"OK", encoded, decoded}"#;
    assert_eq!(
        eval(script),
        Reply::Array(vec![
            bulk("OK"),
            bulk("Cannot serialise, excessive nesting (2)"),
            bulk("Found too many nested data structures (2) at character 9"),
        ])
    );
}

#[test]
fn redis_suite_msgpack_circular() {
    let script = r#"local a = {x=nil,y=5}
local b = {x=a}
a['x'] = b
local encoded = cmsgpack.pack(a)
local h = ""
for i = 1, #encoded do
    h = h .. string.format("%02x",string.byte(encoded, i))
end
local re = cmsgpack.unpack(encoded)
assert(re)
assert(re.x)
assert(re.x.x.y == re.y)
assert(re.x.x.x.x.y == re.y)
assert(re.x.x.x.x.x.x.y == re.y)
assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y)
assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)
assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
return {h, re.x.x.x.x.x.x.x.x.y == re.y, re.y == 5}"#;
    let hex = "82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0";
    assert_eq!(eval(script), Reply::Array(vec![bulk(hex), Reply::Int(1), Reply::Int(1)]));
}

#[test]
fn redis_suite_json_numbers() {
    let script = r#"return {table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " "), cjson.encode({1.5, -0.000001, 123456789012345, 2^53})}"#;
    assert_eq!(
        eval(script),
        Reply::Array(vec![
            bulk("0 -5000 -1 0.0003 1023.2 0"),
            bulk("[1.5,-1e-06,1.2345678901234e+14,9.007199254741e+15]"),
        ])
    );
}

#[test]
fn cjson_settings_take_effect() {
    let script = r#"cjson.encode_sparse_array(true)
local a = cjson.encode({[1]=1,[20]=2})
cjson.encode_number_precision(3)
local b = cjson.encode(1/3)
cjson.encode_invalid_numbers(true)
local c = cjson.encode({0/0 == 0/0, 1/0})
return {a, b, c, cjson.encode_max_depth(), select('#', cjson.encode_sparse_array())}"#;
    assert_eq!(
        eval(script),
        Reply::Array(vec![
            bulk("{\"1\":1,\"20\":2}"),
            bulk("0.333"),
            bulk("[false,inf]"),
            Reply::Int(1000),
            Reply::Int(3),
        ])
    );
}

/**
 * The few pieces of the protocol buffers wire format an ONNX file needs:
 * varints, length-delimited fields (strings, bytes, nested messages) and
 * 32-bit floats. A message is built as a list of encoded fields and joined
 * once; nothing here knows ONNX (see `onnx.ts`).
 *
 * Wire types: 0 varint, 2 length-delimited, 5 fixed 32-bit.
 */

/** An encoded message: its fields' bytes, in order. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  /** A varint field (int32, int64, enum, bool); negative values are 64-bit two's complement. */
  varint(field: number, value: number | bigint): this {
    this.push(encodeVarint(BigInt(fieldTag(field, 0))));
    this.push(encodeVarint(toUint64(value)));
    return this;
  }

  /** A repeated varint field, one entry per value (ONNX's readers accept unpacked repeated ints). */
  varints(field: number, values: readonly number[]): this {
    for (const value of values) this.varint(field, value);
    return this;
  }

  /** A 32-bit float field. */
  float(field: number, value: number): this {
    this.push(encodeVarint(BigInt(fieldTag(field, 5))));
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  /** A length-delimited field holding raw bytes. */
  bytes(field: number, value: Uint8Array): this {
    this.push(encodeVarint(BigInt(fieldTag(field, 2))));
    this.push(encodeVarint(BigInt(value.length)));
    this.push(value);
    return this;
  }

  /** A UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A nested message field. */
  message(field: number, value: ProtoMessage): this {
    return this.bytes(field, value.finish());
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
}

function fieldTag(field: number, wireType: number): number {
  if (!Number.isInteger(field) || field < 1) throw new RangeError(`bad protobuf field number ${field}`);
  return field * 8 + wireType;
}

function toUint64(value: number | bigint): bigint {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  return big < 0n ? (1n << 64n) + big : big;
}

/** Base-128 varint of an unsigned 64-bit value. */
export function encodeVarint(value: bigint): Uint8Array {
  if (value < 0n || value >= 1n << 64n) throw new RangeError(`varint out of range: ${value}`);
  const bytes: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Uint8Array.from(bytes);
}

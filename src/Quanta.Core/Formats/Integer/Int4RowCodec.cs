using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Formats.Integer;

/// <summary>
/// <see cref="IRowCodec"/> for the INT4 group formats (<see cref="WeightFormat.Int4G32"/>, G64, G128); the byte
/// layout, quantizer and error bound (<c>|x - w| &lt;= s/2</c> per element) are documented on <see cref="Int4Group"/>.
/// <see cref="Quantize"/> is the scalar reference quantizer, symmetric or asymmetric per instance;
/// <see cref="Dequantize"/> is bit-identical to <see cref="DequantizeReference"/> (<c>w = s*q + m</c>, F32 multiply then add).
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed class Int4RowCodec : IRowCodec
{
    /// <summary>Asymmetric (min/max) codec, 32-element groups.</summary>
    public static Int4RowCodec G32 { get; } = new(32, symmetric: false);
    /// <summary>Asymmetric (min/max) codec, 64-element groups.</summary>
    public static Int4RowCodec G64 { get; } = new(64, symmetric: false);
    /// <summary>Asymmetric (min/max) codec, 128-element groups.</summary>
    public static Int4RowCodec G128 { get; } = new(128, symmetric: false);

    /// <summary>Creates a codec for groups of 32, 64 or 128; <paramref name="symmetric"/> picks the quantizer (zero = 8).</summary>
    public Int4RowCodec(int groupSize, bool symmetric)
    {
        Int4Group.CheckGroupSize(groupSize);
        GroupSize = groupSize;
        Symmetric = symmetric;
    }

    /// <summary>Elements per group.</summary>
    public int GroupSize { get; }

    /// <summary>Whether <see cref="Quantize"/> uses the symmetric rule.</summary>
    public bool Symmetric { get; }

    /// <summary>The weight format of rows this codec writes.</summary>
    public WeightFormat Format => Int4Group.FormatOf(GroupSize);

    /// <inheritdoc />
    public string Name => "INT4_G" + GroupSize.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public int BlockSize => GroupSize;

    /// <inheritdoc />
    public long RowBytes(int n) => Int4Group.RowBytes(n, GroupSize);

    /// <inheritdoc />
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int g = GroupSize, gb = Int4Group.GroupBytes(g);
        Check(src.Length, dst.Length);
        Span<byte> codes = stackalloc byte[128];
        for (int grp = 0; grp < src.Length / g; grp++)
            Int4Group.QuantizeGroup(src.Slice(grp * g, g), Symmetric, dst.Slice(grp * gb, gb), codes, out _, out _);
    }

    /// <inheritdoc />
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int g = GroupSize, gb = Int4Group.GroupBytes(g);
        Check(dst.Length, src.Length);
        for (int grp = 0; grp < dst.Length / g; grp++)
        {
            ReadOnlySpan<byte> b = src.Slice(grp * gb, gb);
            float s = (float)BinaryPrimitives.ReadHalfLittleEndian(b);
            float m = (float)BinaryPrimitives.ReadHalfLittleEndian(b.Slice(2));
            Span<float> o = dst.Slice(grp * g, g);
            for (int j = 0; j < g / 2; j++)
            {
                int v = b[4 + j];
                o[2 * j] = s * (v & 0xF) + m;
                o[2 * j + 1] = s * (v >> 4) + m;
            }
        }
    }

    /// <inheritdoc />
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int g = GroupSize, gb = Int4Group.GroupBytes(g);
        Check(dst.Length, src.Length);
        if (!Vector128.IsHardwareAccelerated) { DequantizeReference(src, dst); return; }
        ref byte sb = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int groups = dst.Length / g;
        for (int grp = 0; grp < groups; grp++)
        {
            ref byte gp = ref Unsafe.Add(ref sb, grp * gb);
            float s = (float)Unsafe.ReadUnaligned<Half>(ref gp);
            float m = (float)Unsafe.ReadUnaligned<Half>(ref Unsafe.Add(ref gp, 2));
            ref float o = ref Unsafe.Add(ref d, grp * g);
            // 16 packed bytes = 32 elements per step
            for (int j = 0; j < g / 2; j += 16)
            {
                Vector256<byte> e = Int4Nibbles.Expand16(Vector128.LoadUnsafe(ref Unsafe.Add(ref gp, 4 + j)));
                ref float oo = ref Unsafe.Add(ref o, 2 * j);
                if (Vector512.IsHardwareAccelerated)
                {
                    var vs = Vector512.Create(s);
                    var vm = Vector512.Create(m);
                    Vector512<ushort> w = Vector512.WidenLower(e.ToVector512Unsafe());
                    (vs * Vector512.ConvertToSingle(Vector512.WidenLower(w).AsInt32()) + vm).StoreUnsafe(ref oo);
                    (vs * Vector512.ConvertToSingle(Vector512.WidenUpper(w).AsInt32()) + vm).StoreUnsafe(ref oo, 16);
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    var vs = Vector256.Create(s);
                    var vm = Vector256.Create(m);
                    Vector256<ushort> lo = Vector256.WidenLower(e), hi = Vector256.WidenUpper(e);
                    (vs * Vector256.ConvertToSingle(Vector256.WidenLower(lo).AsInt32()) + vm).StoreUnsafe(ref oo);
                    (vs * Vector256.ConvertToSingle(Vector256.WidenUpper(lo).AsInt32()) + vm).StoreUnsafe(ref oo, 8);
                    (vs * Vector256.ConvertToSingle(Vector256.WidenLower(hi).AsInt32()) + vm).StoreUnsafe(ref oo, 16);
                    (vs * Vector256.ConvertToSingle(Vector256.WidenUpper(hi).AsInt32()) + vm).StoreUnsafe(ref oo, 24);
                }
                else
                {
                    var vs = Vector128.Create(s);
                    var vm = Vector128.Create(m);
                    for (int h = 0; h < 2; h++)
                    {
                        Vector128<byte> eb = h == 0 ? e.GetLower() : e.GetUpper();
                        Vector128<ushort> lo = Vector128.WidenLower(eb), hi = Vector128.WidenUpper(eb);
                        ref float o4 = ref Unsafe.Add(ref oo, 16 * h);
                        (vs * Vector128.ConvertToSingle(Vector128.WidenLower(lo).AsInt32()) + vm).StoreUnsafe(ref o4);
                        (vs * Vector128.ConvertToSingle(Vector128.WidenUpper(lo).AsInt32()) + vm).StoreUnsafe(ref o4, 4);
                        (vs * Vector128.ConvertToSingle(Vector128.WidenLower(hi).AsInt32()) + vm).StoreUnsafe(ref o4, 8);
                        (vs * Vector128.ConvertToSingle(Vector128.WidenUpper(hi).AsInt32()) + vm).StoreUnsafe(ref o4, 12);
                    }
                }
            }
        }
    }

    private void Check(int n, int bytes)
    {
        long need = Int4Group.RowBytes(n, GroupSize);
        if (bytes < need) throw new ArgumentException($"{Name} row of {n} elements needs {need} bytes, got {bytes}", nameof(bytes));
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Formats.Integer;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.HuggingFace;

/// <summary>
/// Loads one nn.Linear weight of a Hugging Face safetensors checkpoint as a <see cref="WeightMatrix"/> [out, in], whatever
/// its storage. The storage is recognised from the tensors present for the module prefix P (the weight name without
/// ".weight"), and cross-checked with the checkpoint's <see cref="HuggingFaceQuantization"/>:
/// <list type="bullet">
/// <item>P.weight F32 / F16 / BF16 [out, in] (row-major: rows contiguous): a zero-copy view of the mapping.</item>
/// <item>P.weight F8_E4M3 (or F8_E5M2) [out, in] + P.weight_scale F32/F16/BF16 with 1 element (compressed-tensors strategy
/// "tensor" [1], ModelOpt FP8 scalar []) or out elements (strategy "channel" [out, 1]); w = fp8 · scale. An optional
/// P.input_scale (static activation scale) is ignored. Stored as <see cref="WeightFormat.Fp8E4M3"/> rows
/// [f32 scale][in fp8 codes] with a per-tensor scale written on every row. Block-wise scales are rejected.</item>
/// <item>P.weight I8 [out, in] + P.weight_scale (1 or out elements; compressed-tensors int-quantized, symmetric):
/// w = q · scale, stored as <see cref="WeightFormat.Int8"/> rows [f32 scale][in int8]. A P.weight_zero_point with a
/// non-zero entry (asymmetric INT8) is rejected.</item>
/// <item>P.qweight (GPTQ, AutoGPTQ layout): qweight I32 [in/8, out], qzeros I32 [in/G, out/8], scales F16 [in/G, out],
/// optional g_idx I32 [in] (must be i / G); see <see cref="GptqPacking"/>.</item>
/// <item>P.qweight (AWQ gemm, AutoAWQ layout, when quant_method is "awq"): qweight I32 [in, out/8], qzeros I32
/// [in/G, out/8], scales F16 [in/G, out]; see <see cref="AwqPacking"/>.</item>
/// <item>P.weight_packed (compressed-tensors pack-quantized): weight_packed I32 [out, in/8], weight_scale [out, in/G]
/// (F16/BF16/F32), optional weight_zero_point I32 [ceil(out/8), in/G], optional weight_shape I32/I64 [2] = {out, in};
/// see <see cref="CompressedTensorsPacking"/>.</item>
/// </list>
/// INT4 layers become <see cref="WeightFormat.Int4G32"/>/G64/G128 rows (G from the scale tensor's shape, checked against
/// the config's group_size). Converted matrices are owned native memory. Missing or mis-shaped tensors throw
/// <see cref="InvalidDataException"/> naming the tensor.
/// </summary>
public static class QuantizedTensorLoader
{
    /// <summary>The matrix <paramref name="weightName"/> ("….weight") of shape [rows, cols] in whatever storage it has.</summary>
    public static WeightMatrix Matrix(SafetensorsCheckpoint ckpt, string weightName, int rows, int cols, HuggingFaceQuantization quantization)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        ArgumentNullException.ThrowIfNull(weightName);
        ArgumentNullException.ThrowIfNull(quantization);
        string p = weightName.EndsWith(".weight", StringComparison.Ordinal) ? weightName[..^".weight".Length] : weightName;
        if (ckpt.Contains(p + ".qweight"))
            return quantization.Method == HuggingFaceQuantMethod.Awq ? Awq(ckpt, p, rows, cols, quantization) : Gptq(ckpt, p, rows, cols, quantization);
        if (ckpt.Contains(p + ".weight_packed")) return PackQuantized(ckpt, p, rows, cols, quantization);
        if (!ckpt.Contains(weightName))
            throw new InvalidDataException($"tensor '{weightName}' is missing (nor is there a quantized form: '{p}.qweight' or '{p}.weight_packed')"
                + Describe(quantization));
        var t = ckpt.GetTensor(weightName, out SafetensorsFile shard);
        ExpectShape(t, "weight", rows, cols);
        return t.DType switch
        {
            SafetensorsDType.F32 => WeightMatrix.View(WeightFormat.F32, rows, cols, shard.Region, t.FileOffset, shard),
            SafetensorsDType.F16 => WeightMatrix.View(WeightFormat.F16, rows, cols, shard.Region, t.FileOffset, shard),
            SafetensorsDType.BF16 => WeightMatrix.View(WeightFormat.BF16, rows, cols, shard.Region, t.FileOffset, shard),
            SafetensorsDType.F8_E4M3 => Fp8(ckpt, p, rows, cols, WeightFormat.Fp8E4M3),
            SafetensorsDType.F8_E5M2 => Fp8(ckpt, p, rows, cols, WeightFormat.Fp8E5M2),
            SafetensorsDType.I8 => Int8(ckpt, p, rows, cols),
            _ => throw new NotSupportedException($"tensor '{weightName}' has dtype {t.DType}; supported: F32, F16, BF16, F8_E4M3, F8_E5M2, I8"
                + Describe(quantization)),
        };
    }

    /// <summary>Any F32/F16/BF16 tensor's elements as F32 (scales, vectors).</summary>
    public static float[] Floats(SafetensorsCheckpoint ckpt, string name)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        var t = ckpt.GetTensor(name, out _);
        WeightFormat f = t.DType switch
        {
            SafetensorsDType.F32 => WeightFormat.F32,
            SafetensorsDType.F16 => WeightFormat.F16,
            SafetensorsDType.BF16 => WeightFormat.BF16,
            _ => throw new InvalidDataException($"tensor '{name}' has dtype {t.DType}; F32, F16 or BF16 was expected"),
        };
        var result = new float[t.ElementCount];
        CodecRegistry.For(f).DequantizeReference(ckpt.GetTensorData(name), result);
        return result;
    }

    private static string Describe(HuggingFaceQuantization q) => q.Method == HuggingFaceQuantMethod.None ? "" : $" (quantization: {q.Description})";

    private static SafetensorsTensorInfo Required(SafetensorsCheckpoint ckpt, string name, string role, out ReadOnlySpan<byte> data)
    {
        if (!ckpt.Contains(name)) throw new InvalidDataException($"tensor '{name}' ({role}) is missing");
        data = ckpt.GetTensorData(name);
        return ckpt.GetTensor(name, out _);
    }

    private static void ExpectDType(SafetensorsTensorInfo t, SafetensorsDType dtype, string role)
    {
        if (t.DType != dtype) throw new InvalidDataException($"tensor '{t.Name}' ({role}) has dtype {t.DType}, expected {dtype}");
    }

    private static void ExpectShape(SafetensorsTensorInfo t, string role, params long[] shape)
    {
        if (!t.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"tensor '{t.Name}' ({role}) has shape [{string.Join(", ", t.Shape.ToArray())}], expected [{string.Join(", ", shape)}]");
    }

    /// <summary>Scale tensor with 1 (per-tensor) or rows (per-channel) elements as F32.</summary>
    private static float[] RowScales(SafetensorsCheckpoint ckpt, string p, int rows, string kind)
    {
        string name = p + ".weight_scale";
        if (!ckpt.Contains(name)) throw new InvalidDataException($"{kind} weight '{p}.weight' needs its scale tensor '{name}', which is missing");
        var t = ckpt.GetTensor(name, out _);
        if (t.ElementCount != 1 && t.ElementCount != rows)
            throw new InvalidDataException($"tensor '{name}' has shape [{string.Join(", ", t.Shape.ToArray())}]: {kind} needs 1 (per-tensor) or {rows} (per-channel) scales; block-wise scales are not supported");
        if (t.ElementCount == rows && rows > 1 && !(t.Shape.Length == 1 || (t.Shape.Length == 2 && t.Shape[1] == 1)))
            throw new InvalidDataException($"tensor '{name}' has shape [{string.Join(", ", t.Shape.ToArray())}], expected [{rows}, 1] or [{rows}]");
        float[] s = Floats(ckpt, name);
        foreach (float v in s)
            if (!float.IsFinite(v)) throw new InvalidDataException($"tensor '{name}' holds a non-finite scale {v}");
        return s;
    }

    private static WeightMatrix Fp8(SafetensorsCheckpoint ckpt, string p, int rows, int cols, WeightFormat format)
    {
        float[] scales = RowScales(ckpt, p, rows, "FP8");
        var m = WeightMatrix.Allocate(format, rows, cols);
        try
        {
            Fp8Quantization.PackRows(ckpt.GetTensorData(p + ".weight"), rows, cols, scales, m.WritableData());
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    private static WeightMatrix Int8(SafetensorsCheckpoint ckpt, string p, int rows, int cols)
    {
        float[] scales = RowScales(ckpt, p, rows, "INT8");
        if (ckpt.Contains(p + ".weight_zero_point"))
        {
            var zt = ckpt.GetTensor(p + ".weight_zero_point", out _);
            foreach (byte b in ckpt.GetTensorData(zt.Name))
                if (b != 0) throw new NotSupportedException($"tensor '{zt.Name}' has non-zero zero points: asymmetric INT8 is not supported");
        }
        ReadOnlySpan<byte> q = ckpt.GetTensorData(p + ".weight");
        var m = WeightMatrix.Allocate(WeightFormat.Int8, rows, cols);
        for (int r = 0; r < rows; r++)
        {
            Span<byte> row = m.WritableRow(r);
            BinaryPrimitives.WriteSingleLittleEndian(row, scales.Length == 1 ? scales[0] : scales[r]);
            q.Slice(r * cols, cols).CopyTo(row[Int8RowCodec.HeaderBytes..]);
        }
        return m;
    }

    private static int GroupFrom(string scaleName, int cols, long groups, HuggingFaceQuantization q)
    {
        if (groups <= 0 || cols % groups != 0)
            throw new InvalidDataException($"tensor '{scaleName}' has {groups} groups, which does not divide in_features {cols}");
        int g = (int)(cols / groups);
        if (g is not (32 or 64 or 128))
            throw new NotSupportedException($"tensor '{scaleName}' implies group size {g}; only 32, 64 and 128 are supported");
        if (q.GroupSize != 0 && q.GroupSize != g)
            throw new InvalidDataException($"tensor '{scaleName}' implies group size {g} but quantization_config says group_size {q.GroupSize}");
        return g;
    }

    private static ReadOnlySpan<Half> Halves(SafetensorsCheckpoint ckpt, SafetensorsTensorInfo t, ReadOnlySpan<byte> data)
    {
        if (t.DType == SafetensorsDType.F16) return MemoryMarshal.Cast<byte, Half>(data);
        float[] f = Floats(ckpt, t.Name);
        var h = new Half[f.Length];
        for (int i = 0; i < f.Length; i++) h[i] = (Half)f[i];
        return h;
    }

    private static WeightMatrix Int4(Int4QuantizedMatrix unpacked)
    {
        var m = WeightMatrix.Allocate(Int4Group.FormatOf(unpacked.GroupSize), unpacked.OutFeatures, unpacked.InFeatures);
        unpacked.WriteRows(m.WritableData());
        return m;
    }

    private static WeightMatrix Gptq(SafetensorsCheckpoint ckpt, string p, int rows, int cols, HuggingFaceQuantization q)
    {
        if (q.Method is not (HuggingFaceQuantMethod.Gptq or HuggingFaceQuantMethod.None))
            throw new InvalidDataException($"tensor '{p}.qweight' is a GPTQ tensor but the checkpoint's quantization is {q.Description}");
        var qw = Required(ckpt, p + ".qweight", "GPTQ packed weights", out var qwData);
        var sc = Required(ckpt, p + ".scales", "GPTQ scales", out var scData);
        var qz = Required(ckpt, p + ".qzeros", "GPTQ zero points", out var qzData);
        if (cols % 8 != 0 || rows % 8 != 0) throw new InvalidDataException($"GPTQ layer '{p}' [{rows}, {cols}] needs both sizes multiples of 8");
        ExpectDType(qw, SafetensorsDType.I32, "GPTQ packed weights");
        ExpectDType(qz, SafetensorsDType.I32, "GPTQ zero points");
        ExpectShape(qw, "GPTQ packed weights [in/8, out]", cols / 8, rows);
        if (sc.Shape.Length != 2) throw new InvalidDataException($"tensor '{sc.Name}' (GPTQ scales) has rank {sc.Shape.Length}, expected [in/group, out]");
        int g = GroupFrom(sc.Name, cols, sc.Shape[0], q);
        ExpectShape(sc, "GPTQ scales [in/group, out]", cols / g, rows);
        ExpectShape(qz, "GPTQ zero points [in/group, out/8]", cols / g, rows / 8);
        ReadOnlySpan<int> gIdx = default;
        if (ckpt.Contains(p + ".g_idx"))
        {
            var gi = Required(ckpt, p + ".g_idx", "GPTQ group index", out var giData);
            ExpectDType(gi, SafetensorsDType.I32, "GPTQ group index");
            ExpectShape(gi, "GPTQ group index [in]", cols);
            gIdx = MemoryMarshal.Cast<byte, int>(giData);
        }
        return Int4(GptqPacking.Unpack(MemoryMarshal.Cast<byte, int>(qwData), MemoryMarshal.Cast<byte, int>(qzData), Halves(ckpt, sc, scData),
            gIdx, cols, rows, g, q.GptqFormat));
    }

    private static WeightMatrix Awq(SafetensorsCheckpoint ckpt, string p, int rows, int cols, HuggingFaceQuantization q)
    {
        var qw = Required(ckpt, p + ".qweight", "AWQ packed weights", out var qwData);
        var sc = Required(ckpt, p + ".scales", "AWQ scales", out var scData);
        var qz = Required(ckpt, p + ".qzeros", "AWQ zero points", out var qzData);
        if (rows % 8 != 0) throw new InvalidDataException($"AWQ layer '{p}' [{rows}, {cols}] needs out_features a multiple of 8");
        ExpectDType(qw, SafetensorsDType.I32, "AWQ packed weights");
        ExpectDType(qz, SafetensorsDType.I32, "AWQ zero points");
        ExpectShape(qw, "AWQ packed weights [in, out/8]", cols, rows / 8);
        if (sc.Shape.Length != 2) throw new InvalidDataException($"tensor '{sc.Name}' (AWQ scales) has rank {sc.Shape.Length}, expected [in/group, out]");
        int g = GroupFrom(sc.Name, cols, sc.Shape[0], q);
        ExpectShape(sc, "AWQ scales [in/group, out]", cols / g, rows);
        ExpectShape(qz, "AWQ zero points [in/group, out/8]", cols / g, rows / 8);
        return Int4(AwqPacking.Unpack(MemoryMarshal.Cast<byte, int>(qwData), MemoryMarshal.Cast<byte, int>(qzData), Halves(ckpt, sc, scData), cols, rows, g));
    }

    private static WeightMatrix PackQuantized(SafetensorsCheckpoint ckpt, string p, int rows, int cols, HuggingFaceQuantization q)
    {
        if (q.Method is not (HuggingFaceQuantMethod.CompressedTensors or HuggingFaceQuantMethod.None))
            throw new InvalidDataException($"tensor '{p}.weight_packed' is a compressed-tensors tensor but the checkpoint's quantization is {q.Description}");
        var wp = Required(ckpt, p + ".weight_packed", "pack-quantized weights", out var wpData);
        var sc = Required(ckpt, p + ".weight_scale", "pack-quantized scales", out _);
        if (cols % 8 != 0) throw new InvalidDataException($"pack-quantized layer '{p}' [{rows}, {cols}] needs in_features a multiple of 8");
        ExpectDType(wp, SafetensorsDType.I32, "pack-quantized weights");
        ExpectShape(wp, "pack-quantized weights [out, in/8]", rows, cols / 8);
        if (sc.Shape.Length != 2) throw new InvalidDataException($"tensor '{sc.Name}' (pack-quantized scales) has rank {sc.Shape.Length}, expected [out, in/group]");
        int g = GroupFrom(sc.Name, cols, sc.Shape[1], q);
        ExpectShape(sc, "pack-quantized scales [out, in/group]", rows, cols / g);
        float[] scales = Floats(ckpt, sc.Name);
        ReadOnlySpan<int> zp = default;
        if (ckpt.Contains(p + ".weight_zero_point"))
        {
            var z = Required(ckpt, p + ".weight_zero_point", "pack-quantized zero points", out var zData);
            ExpectDType(z, SafetensorsDType.I32, "pack-quantized zero points");
            ExpectShape(z, "pack-quantized zero points [ceil(out/8), in/group]", (rows + 7) / 8, cols / g);
            zp = MemoryMarshal.Cast<byte, int>(zData);
        }
        int[] shape = [];
        if (ckpt.Contains(p + ".weight_shape"))
        {
            var s = Required(ckpt, p + ".weight_shape", "pack-quantized original shape", out var sData);
            shape = s.DType switch
            {
                SafetensorsDType.I32 when s.ElementCount == 2 => MemoryMarshal.Cast<byte, int>(sData).ToArray(),
                SafetensorsDType.I64 when s.ElementCount == 2 => MemoryMarshal.Cast<byte, long>(sData).ToArray().Select(v => (int)Math.Clamp(v, -1, int.MaxValue)).ToArray(),
                _ => throw new InvalidDataException($"tensor '{s.Name}' (pack-quantized original shape) must be 2 I32 or I64 values, got {s.DType} [{string.Join(", ", s.Shape.ToArray())}]"),
            };
            if (shape[0] != rows || shape[1] != cols)
                throw new InvalidDataException($"tensor '{s.Name}' says [{shape[0]}, {shape[1]}], expected [{rows}, {cols}]");
        }
        return Int4(CompressedTensorsPacking.Unpack(MemoryMarshal.Cast<byte, int>(wpData), scales, zp, shape, cols, rows, g));
    }
}

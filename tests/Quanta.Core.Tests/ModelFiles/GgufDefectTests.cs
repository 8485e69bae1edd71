using Quanta.Core.Formats;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Core.Tests.ModelFiles;

/// <summary>One hand-built file per defect class; each error must name the file and the defect.</summary>
public class GgufDefectTests
{
    private const string Name = "model.gguf";

    private static ModelFileException Fails(byte[] bytes, params string[] fragments)
    {
        var e = Assert.Throws<ModelFileException>(() => GgufFile.Parse(bytes, Name).Dispose());
        Assert.Equal(Name, e.FilePath);
        Assert.StartsWith(Name + ": ", e.Message);
        foreach (string f in fragments) Assert.Contains(f, e.Defect);
        return e;
    }

    /// <summary>A valid file with one F32 tensor [8] named t; parameters break one field each.</summary>
    private static byte[] OneTensor(ulong[]? dims = null, uint type = 0, ulong offset = 0, int dataBytes = 32, string name = "t")
    {
        var r = new GgufRaw().Header(3, 1, 0).Tensor(name, dims ?? [8], type, offset).Pad();
        return r.Zeros(dataBytes).ToArray();
    }

    [Fact]
    public void Valid_hand_built_file_parses()
    {
        using GgufFile f = GgufFile.Parse(OneTensor(), Name);
        Assert.Equal(32, f.GetTensor("t").ByteCount);
    }

    [Fact]
    public void Wrong_magic() =>
        Fails([.. "GGML"u8, 3, 0, 0, 0, .. new byte[16]], "wrong magic", "not a GGUF file");

    [Fact]
    public void Version_1_is_rejected() =>
        Fails(new GgufRaw().Header(1, 0, 0).ToArray(), "version 1 is not supported");

    [Fact]
    public void Unknown_version_is_rejected() =>
        Fails(new GgufRaw().Header(4, 0, 0).ToArray(), "unsupported GGUF version 4");

    [Fact]
    public void Big_endian_is_rejected() =>
        Fails(new GgufRaw().Header(0x03000000, 0, 0).ToArray(), "big-endian");

    [Fact]
    public void Empty_data_is_truncated() => Fails([], "truncated", "magic");

    [Fact]
    public void Truncated_header() =>
        Fails(new GgufRaw().Header(3, 0, 1).ToArray()[..20], "truncated", "metadata count needs 8 bytes at offset 16");

    [Fact]
    public void Truncated_metadata_value() =>
        Fails(new GgufRaw().Header(3, 0, 1).Str("k").U32(4).U8(1).ToArray(), "truncated", "value of 'k'");

    [Fact]
    public void Truncated_tensor_data_runs_past_the_end() =>
        Fails(OneTensor(dataBytes: 20), "tensor 't' data [offset 0, 32 bytes] runs past the end of the file");

    [Fact]
    public void Absurd_metadata_count() =>
        Fails(new GgufRaw().Header(3, 0, 1UL << 60).ToArray(), $"metadata count {1UL << 60} is impossible");

    [Fact]
    public void Absurd_tensor_count() =>
        Fails(new GgufRaw().Header(3, ulong.MaxValue, 0).ToArray(), "tensor count", "is impossible");

    [Fact]
    public void Absurd_string_length() =>
        Fails(new GgufRaw().Header(3, 0, 1).U64(ulong.MaxValue).U32(0).Zeros(16).ToArray(), "metadata key #0", "has length 18446744073709551615");

    [Fact]
    public void Absurd_array_length() =>
        Fails(new GgufRaw().Header(3, 0, 1).Str("arr").U32(9).U32(8).U64(1UL << 50).Zeros(64).ToArray(),
            "'arr' array of", "cannot fit");

    [Fact]
    public void Offset_out_of_range() =>
        Fails(OneTensor(offset: 1UL << 62), $"tensor 't' data [offset {1UL << 62}, 32 bytes] runs past the end of the file (size");

    [Fact]
    public void Unknown_tensor_type() => Fails(OneTensor(type: 4), "tensor 't' has unknown ggml type id 4");

    [Fact]
    public void Unknown_metadata_value_type() =>
        Fails(new GgufRaw().Header(3, 0, 1).Str("k").U32(13).U32(0).ToArray(), "unknown value type 13");

    [Fact]
    public void Unknown_array_element_type() =>
        Fails(new GgufRaw().Header(3, 0, 1).Str("k").U32(9).U32(77).U64(0).ToArray(), "unknown element type 77");

    [Fact]
    public void Invalid_utf8_in_key() =>
        Fails(new GgufRaw().Header(3, 0, 1).RawStr([0x6B, 0xC3, 0x28]).U32(4).U32(1).ToArray(), "metadata key #0", "not valid UTF-8");

    [Fact]
    public void Invalid_utf8_in_string_value() =>
        Fails(new GgufRaw().Header(3, 0, 1).Str("k").U32(8).RawStr([0xFF, 0xFE]).ToArray(), "string value of 'k'", "not valid UTF-8");

    [Fact]
    public void Invalid_utf8_in_tensor_name() =>
        Fails(new GgufRaw().Header(3, 1, 0).RawStr([0xED, 0xA0, 0x80]).U32(1).U64(8).U32(0).U64(0).Pad().Zeros(32).ToArray(),
            "name of tensor #0", "not valid UTF-8");

    [Fact]
    public void Invalid_bool() =>
        Fails(new GgufRaw().Header(3, 0, 1).Str("flag").U32(7).U8(2).ToArray(), "bool value of 'flag'", "is 2");

    [Fact]
    public void Duplicate_metadata_key() =>
        Fails(new GgufRaw().Header(3, 0, 2).KvU32("k", 1).KvU32("k", 2).ToArray(), "duplicate metadata key 'k'");

    [Fact]
    public void Duplicate_tensor_name() =>
        Fails(new GgufRaw().Header(3, 2, 0).Tensor("t", [8], 0, 0).Tensor("t", [8], 0, 32).Pad().Zeros(64).ToArray(),
            "duplicate tensor name 't'");

    [Fact]
    public void Misaligned_tensor_offset() =>
        Fails(OneTensor(offset: 4, dataBytes: 64), "tensor 't' data offset 4 is not a multiple of the alignment 32");

    [Fact]
    public void Alignment_not_a_power_of_two() =>
        Fails(new GgufRaw().Header(3, 0, 1).KvU32("general.alignment", 48).ToArray(), "general.alignment 48 is not a power of two");

    [Fact]
    public void Alignment_of_wrong_type() =>
        Fails(new GgufRaw().Header(3, 0, 1).KvStr("general.alignment", "32").ToArray(), "general.alignment has type String");

    [Fact]
    public void Overflow_in_dimension_product() =>
        Fails(OneTensor(dims: [1UL << 32, 1UL << 32, 1UL << 32]), "tensor 't' shape", "overflows");

    [Fact]
    public void Overflow_in_byte_count() =>
        Fails(OneTensor(dims: [1UL << 62, 2]), "tensor 't' shape", "overflows");

    [Fact]
    public void More_than_four_dims() => Fails(OneTensor(dims: [1, 1, 1, 1, 8]), "tensor 't' has 5 dimensions");

    [Fact]
    public void Zero_rank() => Fails(OneTensor(dims: []), "tensor 't' has 0 dimensions");

    [Fact]
    public void Zero_dim() => Fails(OneTensor(dims: [8, 0]), "tensor 't' dimension 1 is zero");

    [Fact]
    public void Negative_dim() => Fails(OneTensor(dims: [8, ulong.MaxValue]), "tensor 't' dimension 1", "negative");

    [Fact]
    public void Row_not_a_multiple_of_the_block_size() =>
        Fails(OneTensor(dims: [16], type: (uint)GgmlType.Q4_0), "row length 16 is not a multiple of the Q4_0 block size 32");

    [Fact]
    public void Tensor_name_too_long() => Fails(OneTensor(name: new string('n', 64)), "longer than 63 bytes");

    [Fact]
    public void Overlapping_tensors() =>
        Fails(new GgufRaw().Header(3, 2, 0).Tensor("a", [16], 0, 0).Tensor("b", [8], 0, 32).Pad().Zeros(64).ToArray(),
            "tensor 'b' data [offset 32, 32 bytes] overlaps tensor 'a'");

    [Fact]
    public void Nested_arrays_too_deep()
    {
        var r = new GgufRaw().Header(3, 0, 1).Str("deep").U32(9);
        for (int i = 0; i < 20; i++) r.U32(9).U64(1);   // array of array of ... (20 levels)
        r.U32(0).U64(0);
        Fails(r.ToArray(), "'deep' nests arrays deeper than 8 levels");
    }

    [Fact]
    public void Nested_arrays_at_the_limit_parse()
    {
        var r = new GgufRaw().Header(3, 0, 1).Str("deep").U32(9);
        for (int i = 0; i < GgufFile.MaxArrayDepth - 1; i++) r.U32(9).U64(1);
        r.U32(0).U64(1).U8(42);
        using GgufFile f = GgufFile.Parse(r.ToArray(), Name);
        GgufArray a = f.Get<GgufArray>("deep");
        for (int i = 0; i < GgufFile.MaxArrayDepth - 1; i++) a = a.AsSpan<GgufArray>()[0];
        Assert.Equal((byte)42, a.AsSpan<byte>()[0]);
    }
}

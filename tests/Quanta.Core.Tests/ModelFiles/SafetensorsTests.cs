using System.Buffers.Binary;
using System.Text;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Core.Tests.ModelFiles;

public class SafetensorsTests
{
    private const string Name = "model.safetensors";

    /// <summary>Assembles a file from a literal JSON header and a data section.</summary>
    private static byte[] Raw(string json, int dataBytes, ulong? headerLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(json);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, headerLength ?? (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    private static ModelFileException Fails(byte[] bytes, params string[] fragments)
    {
        var e = Assert.Throws<ModelFileException>(() => SafetensorsFile.Parse(bytes, Name).Dispose());
        Assert.Equal(Name, e.FilePath);
        Assert.StartsWith(Name + ": ", e.Message);
        foreach (string f in fragments) Assert.Contains(f, e.Defect);
        return e;
    }

    [Fact]
    public void Round_trip_every_dtype_shape_metadata_and_bytes()
    {
        byte[] bytes = ModelFileCorpus.MixedSafetensors().ToArray();
        Assert.Equal(0, (BinaryPrimitives.ReadInt64LittleEndian(bytes) % 8)); // header padded to 8
        using SafetensorsFile f = SafetensorsFile.Parse(bytes, Name);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal("corpus", f.Metadata["note"]);
        var expected = new (string Name, SafetensorsDType DType, long[] Shape, int Bytes, int Salt)[]
        {
            ("f32", SafetensorsDType.F32, [2, 3], 24, 1), ("f16", SafetensorsDType.F16, [4], 8, 2),
            ("bf16", SafetensorsDType.BF16, [2, 2], 8, 3), ("f8_e4m3", SafetensorsDType.F8_E4M3, [4], 4, 4),
            ("f8_e5m2", SafetensorsDType.F8_E5M2, [2], 2, 5), ("i8", SafetensorsDType.I8, [5], 5, 6),
            ("u8", SafetensorsDType.U8, [3], 3, 7), ("i32", SafetensorsDType.I32, [2], 8, 8),
            ("i64", SafetensorsDType.I64, [1, 1], 8, 9), ("f64.scalar", SafetensorsDType.F64, [], 8, 10),
        };
        Assert.Equal(expected.Length, f.Tensors.Count);
        foreach (var x in expected)
        {
            SafetensorsTensorInfo t = f.GetTensor(x.Name);
            Assert.Equal(x.DType, t.DType);
            Assert.Equal(x.Shape, t.Shape.ToArray());
            Assert.Equal(x.Bytes, t.ByteCount);
            Assert.Equal(ModelFileCorpus.Pattern(x.Bytes, x.Salt), f.GetTensorData(t).ToArray());
        }
        Assert.Equal(1, f.GetTensor("f64.scalar").ElementCount);
    }

    [Theory]
    [InlineData("BOOL", 1)] [InlineData("U8", 1)] [InlineData("I8", 1)] [InlineData("F8_E5M2", 1)] [InlineData("F8_E4M3", 1)]
    [InlineData("I16", 2)] [InlineData("U16", 2)] [InlineData("F16", 2)] [InlineData("BF16", 2)]
    [InlineData("I32", 4)] [InlineData("U32", 4)] [InlineData("F32", 4)] [InlineData("F64", 8)] [InlineData("I64", 8)] [InlineData("U64", 8)]
    public void Dtype_sizes_follow_the_format(string dtype, int size)
    {
        using SafetensorsFile f = SafetensorsFile.Parse(Raw("{\"x\":{\"dtype\":\"" + dtype + "\",\"shape\":[3],\"data_offsets\":[0," + (3 * size) + "]}}", 3 * size), Name);
        Assert.Equal(dtype, f.GetTensor("x").DType.ToString());
        Assert.Equal(3 * size, f.GetTensorData("x").Length);
    }

    [Fact]
    public void Opens_from_disk_and_zero_size_tensors_are_allowed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-st-{Guid.NewGuid():N}.safetensors");
        try
        {
            new SafetensorsWriter().AddTensor("empty", SafetensorsDType.F32, [0, 4], []).AddTensor("x", SafetensorsDType.U8, [2], [7, 9]).WriteTo(path);
            using SafetensorsFile f = SafetensorsFile.Open(path);
            Assert.Equal(0, f.GetTensor("empty").ByteCount);
            Assert.Equal(new byte[] { 7, 9 }, f.GetTensorData("x").ToArray());
            Assert.Empty(f.Metadata);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Sharded_checkpoint_resolves_tensors_across_shards()
    {
        string dir = Directory.CreateTempSubdirectory("quanta-shards-").FullName;
        try
        {
            new SafetensorsWriter().AddTensor("a", SafetensorsDType.F32, [1], [1, 2, 3, 4]).WriteTo(Path.Combine(dir, "model-00001-of-00002.safetensors"));
            new SafetensorsWriter().AddTensor("b", SafetensorsDType.I8, [2], [5, 6]).AddTensor("c", SafetensorsDType.U8, [1], [7])
                .WriteTo(Path.Combine(dir, "model-00002-of-00002.safetensors"));
            File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName), """
                {"metadata":{"total_size":7},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}
                """);
            using (var ckpt = SafetensorsCheckpoint.Open(dir))
            {
                Assert.Equal(2, ckpt.Shards.Count);
                Assert.Equal(new[] { "a", "b", "c" }, ckpt.TensorNames);
                Assert.Equal(new byte[] { 1, 2, 3, 4 }, ckpt.GetTensorData("a").ToArray());
                Assert.Equal(new byte[] { 5, 6 }, ckpt.GetTensorData("b").ToArray());
                Assert.Equal(SafetensorsDType.U8, ckpt.GetTensor("c", out SafetensorsFile shard).DType);
                Assert.EndsWith("model-00002-of-00002.safetensors", shard.FilePath);
                var e = Assert.Throws<ModelFileException>(() => ckpt.GetTensor("zz", out _));
                Assert.Contains("tensor 'zz' is missing", e.Message);
            }

            // A tensor the index lists but its shard lacks.
            string index = Path.Combine(dir, SafetensorsCheckpoint.IndexFileName);
            File.WriteAllText(index, """{"weight_map":{"a":"model-00001-of-00002.safetensors","q":"model-00001-of-00002.safetensors"}}""");
            var missingTensor = Assert.Throws<ModelFileException>(() => SafetensorsCheckpoint.Open(index));
            Assert.Contains("model-00001-of-00002.safetensors", missingTensor.FilePath);
            Assert.Contains("tensor 'q' listed in model.safetensors.index.json is missing from this shard", missingTensor.Message);

            // A shard that does not exist.
            File.WriteAllText(index, """{"weight_map":{"a":"model-00009-of-00009.safetensors"}}""");
            var missingShard = Assert.Throws<ModelFileException>(() => SafetensorsCheckpoint.Open(dir));
            Assert.Equal(index, missingShard.FilePath);
            Assert.Contains("shard 'model-00009-of-00009.safetensors' (listed for tensor 'a') does not exist", missingShard.Message);

            // A shard name that leaves the folder.
            File.WriteAllText(index, """{"weight_map":{"a":"../x.safetensors"}}""");
            Assert.Contains("not a plain file name", Assert.Throws<ModelFileException>(() => SafetensorsCheckpoint.Open(index)).Message);

            // No weight_map.
            File.WriteAllText(index, """{"metadata":{}}""");
            Assert.Contains("no 'weight_map'", Assert.Throws<ModelFileException>(() => SafetensorsCheckpoint.Open(index)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Single_file_checkpoint()
    {
        string dir = Directory.CreateTempSubdirectory("quanta-single-").FullName;
        try
        {
            new SafetensorsWriter().AddTensor("w", SafetensorsDType.BF16, [2], [1, 2, 3, 4]).WriteTo(Path.Combine(dir, "model.safetensors"));
            using var ckpt = SafetensorsCheckpoint.Open(dir);
            Assert.Single(ckpt.Shards);
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, ckpt.GetTensorData("w").ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- one test per defect class ----

    [Fact]
    public void Truncated_before_header_length() => Fails([1, 0, 0], "truncated", "header length");

    [Fact]
    public void Header_length_above_limit() => Fails(Raw("{}", 0, headerLength: 1UL << 40), "exceeds the 100000000-byte limit");

    [Fact]
    public void Header_length_past_end_of_file() => Fails(Raw("{}", 0, headerLength: 1000), "header length 1000 runs past the end of the file");

    [Fact]
    public void Header_not_json() => Fails(Raw("{\"a\":", 0), "JSON header is malformed");

    [Fact]
    public void Header_not_an_object() => Fails(Raw("[1,2]", 0), "JSON header is a Array, not an object");

    [Fact]
    public void Header_invalid_utf8()
    {
        byte[] b = Raw("{\"a\u00e9\":1}", 0);
        b[8 + 3] = 0xFF; // break the two-byte sequence of 'é'
        Fails(b, "not valid UTF-8");
    }

    [Fact]
    public void Unknown_dtype() => Fails(Raw("""{"x":{"dtype":"F12","shape":[1],"data_offsets":[0,1]}}""", 1), "tensor 'x' has unknown dtype 'F12'");

    [Fact]
    public void Offsets_out_of_range() =>
        Fails(Raw("""{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8), "tensor 'x' data [offset 0, 16 bytes] runs past the end of the file");

    [Fact]
    public void Offsets_reversed() => Fails(Raw("""{"x":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}""", 8), "data_offsets [4, 0] are out of order");

    [Fact]
    public void Offsets_negative() => Fails(Raw("""{"x":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}""", 8), "not non-negative integers");

    [Fact]
    public void Size_mismatch() =>
        Fails(Raw("""{"x":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}""", 8), "span 4 bytes but F16 x [3] needs 6");

    [Fact]
    public void Overlapping_tensors() =>
        Fails(Raw("""{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"y":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}""", 8),
            "tensor 'y' data [2, 6) overlaps tensor 'x' [0, 4)");

    [Fact]
    public void Negative_dim() => Fails(Raw("""{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}""", 0), "tensor 'x' dimension 0 is negative (-1)");

    [Fact]
    public void Dimension_product_overflow() =>
        Fails(Raw("""{"x":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""", 0), "tensor 'x' shape", "overflows");

    [Fact]
    public void Byte_count_overflow() =>
        Fails(Raw("""{"x":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}}""", 0), "overflows a 64-bit byte count");

    [Fact]
    public void Duplicate_tensor_name() =>
        Fails(Raw("""{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2), "duplicate entry 'x'");

    [Fact]
    public void Metadata_values_must_be_strings() => Fails(Raw("""{"__metadata__":{"n":1}}""", 0), "__metadata__ entry 'n' is a Number");

    [Fact]
    public void Missing_fields() => Fails(Raw("""{"x":{"dtype":"U8","shape":[1]}}""", 1), "tensor 'x' has no 'data_offsets' pair");

    [Fact]
    public void Nesting_too_deep() => Fails(Raw("{\"x\":" + new string('[', 50) + new string(']', 50) + "}", 0), "JSON header is malformed");
}

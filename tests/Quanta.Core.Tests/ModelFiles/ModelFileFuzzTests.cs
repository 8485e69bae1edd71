using System.Buffers.Binary;
using CsCheck;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.ModelFiles.Safetensors;
using Xunit.Abstractions;

namespace Quanta.Core.Tests.ModelFiles;

/// <summary>One byte-level edit of a corpus file. Positions are reduced modulo the current length.</summary>
public readonly record struct Mutation(int Kind, uint Position, ulong Value, int Length)
{
    /// <summary>Field values that break size and count checks: zero, one, sign boundaries, all ones, huge.</summary>
    private static readonly ulong[] Interesting =
    [
        0, 1, 2, 3, 4, 7, 8, 31, 32, 63, 64, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFFE, 0xFFFFFFFF, 1UL << 32, 1UL << 40, 1UL << 62, long.MaxValue, 0x8000000000000000, ulong.MaxValue - 1, ulong.MaxValue,
    ];

    public static readonly Gen<Mutation> Gen =
        CsCheck.Gen.Select(CsCheck.Gen.Int[0, 8], CsCheck.Gen.UInt, CsCheck.Gen.ULong, CsCheck.Gen.Int[1, 16],
            (k, p, v, l) => new Mutation(k, p, v, l));

    public byte[] Apply(byte[] input)
    {
        var b = new List<byte>(input);
        int n = b.Count;
        ulong interesting = Interesting[(int)(Value % (ulong)Interesting.Length)];
        switch (Kind)
        {
            case 0 when n > 0: // bit flip
                b[(int)(Position % n)] ^= (byte)(1 << (int)(Value % 8));
                break;
            case 1: // truncate
                b.RemoveRange((int)(Position % (n + 1)), n - (int)(Position % (n + 1)));
                break;
            case 2: // insert bytes
                for (int i = 0; i < Length; i++) b.Insert((int)(Position % (b.Count + 1)), (byte)(Value >> (i % 8 * 8)));
                break;
            case 3 when n > 0: // delete bytes
            {
                int at = (int)(Position % n);
                b.RemoveRange(at, Math.Min(Length, n - at));
                break;
            }
            case 4 when n >= 8: // overwrite a 64-bit field with an interesting value (or its negation)
            {
                ulong v = (Value >> 40) % 2 == 0 ? interesting : (ulong)-(long)interesting;
                Span<byte> tmp = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(tmp, v);
                int at = (int)(Position % (n - 7));
                for (int i = 0; i < 8; i++) b[at + i] = tmp[i];
                break;
            }
            case 5 when n >= 4: // overwrite a 32-bit field
            {
                Span<byte> tmp = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(tmp, (uint)interesting);
                int at = (int)(Position % (n - 3));
                for (int i = 0; i < 4; i++) b[at + i] = tmp[i];
                break;
            }
            case 6 when n >= 8: // overwrite an aligned 64-bit field (GGUF counts and lengths are 8 bytes)
            {
                Span<byte> tmp = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(tmp, interesting);
                int at = (int)(Position % (n / 8)) * 8;
                for (int i = 0; i < 8; i++) b[at + i] = tmp[i];
                break;
            }
            case 7 when n > 0: // random byte
                b[(int)(Position % n)] = (byte)Value;
                break;
            case 8 when n > 0: // text-level: rewrite a decimal number in place (JSON sizes, shapes, offsets)
            {
                int at = (int)(Position % n);
                while (at < n && (b[at] < '0' || b[at] > '9')) at++;
                if (at == n) break;
                int end = at;
                while (end < n && b[end] >= '0' && b[end] <= '9') end++;
                string text = (Value % 3) switch
                {
                    0 => interesting.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    1 => "-" + interesting.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => (Value % 100000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                b.RemoveRange(at, end - at);
                b.InsertRange(at, System.Text.Encoding.ASCII.GetBytes(text));
                break;
            }
        }
        return b.ToArray();
    }
}

/// <summary>
/// Mutation fuzzing of every reader over the committed corpus: each mutated input must parse or throw
/// <see cref="ModelFileException"/>, and one parse may allocate at most 64 MB plus the input size.
/// Runs for QUANTA_FUZZ_SECONDS per format (default 4).
/// </summary>
public class ModelFileFuzzTests(ITestOutputHelper output)
{
    private const long AllocationSlack = 64L << 20;
    private const int MinimumInputs = 500;

    private static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("QUANTA_FUZZ_SECONDS"), out int s) && s > 0 ? s : 4;

    private void Fuzz(string format, string suffix, Action<byte[]> parse)
    {
        (string Name, byte[] Bytes)[] corpus = ModelFileCorpus.Load(suffix);
        // Every corpus file itself must parse.
        foreach (var (_, bytes) in corpus) parse(bytes);
        var (inputs, rejected, maxAllocated) = Run(format, corpus, parse, Seconds);
        output.WriteLine($"{format}: {inputs} mutated inputs in {Seconds} s ({rejected} rejected with ModelFileException), " +
                         $"largest allocation per parse {maxAllocated} bytes, corpus {string.Join(", ", corpus.Select(c => c.Name))}");
        Assert.True(inputs >= MinimumInputs, $"{format}: only {inputs} inputs ran (minimum {MinimumInputs})");
        Assert.True(rejected > 0 && rejected < inputs, $"{format}: {rejected} of {inputs} rejected; mutations should produce both outcomes");
    }

    private static (long Inputs, long Rejected, long MaxAllocated) Run((string Name, byte[] Bytes)[] corpus, Action<byte[]> parse, int seconds) =>
        Run("test", corpus, parse, seconds);

    private static (long Inputs, long Rejected, long MaxAllocated) Run(string format, (string Name, byte[] Bytes)[] corpus, Action<byte[]> parse, int seconds)
    {
        long inputs = 0, rejected = 0, maxAllocated = 0;
        var gen = CsCheck.Gen.Select(CsCheck.Gen.Int[0, corpus.Length - 1], Mutation.Gen.Array[1, 4]);
        gen.Sample((file, mutations) =>
        {
            byte[] data = corpus[file].Bytes;
            foreach (Mutation m in mutations) data = m.Apply(data);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                parse(data);
            }
            catch (ModelFileException)
            {
                Interlocked.Increment(ref rejected);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            InterlockedMax(ref maxAllocated, allocated);
            if (allocated > AllocationSlack + data.Length)
                throw new InvalidOperationException($"{format} parse of {data.Length} bytes allocated {allocated} bytes");
            Interlocked.Increment(ref inputs);
        }, time: seconds, threads: 1, print: t => $"corpus {corpus[t.Item1].Name}, mutations [{string.Join(", ", t.Item2)}]");
        return (inputs, rejected, maxAllocated);
    }

    /// <summary>
    /// The real shared files (read into memory, never copied into the repository) under the same mutations:
    /// large metadata arrays and realistic headers. Shorter run: each parse handles up to 1.7 MB.
    /// </summary>
    [Fact]
    public void Shared_real_files_mutations_parse_or_throw_ModelFileException()
    {
        var corpus = new[] { "testdata/gguf/llama-2-tiny-random.gguf", "testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf", "testdata/llama2c/stories260K.bin" }
            .Select(f => (Path.GetFileName(f), File.ReadAllBytes(SharedData.Get(f)))).ToArray();
        int seconds = Math.Max(1, Seconds / 2);
        var (inputs, rejected, maxAllocated) = Run("shared", corpus, data =>
        {
            if (data.Length >= 4 && data[0] == (byte)'G')
                GgufFile.Parse(data, "fuzz.gguf").Dispose();
            else
                Llama2cCheckpoint.Parse(data, "fuzz.bin").Dispose();
        }, seconds);
        output.WriteLine($"shared files: {inputs} mutated inputs in {seconds} s ({rejected} rejected), largest allocation per parse {maxAllocated} bytes");
        Assert.True(inputs >= 20, $"only {inputs} inputs ran");
    }

    [Fact]
    public void Harness_fails_on_a_foreign_exception()
    {
        var corpus = ModelFileCorpus.Load(".gguf");
        // A "reader" that indexes past the end of shortened input, as a careless parser would.
        int shortest = corpus.Min(c => c.Bytes.Length);
        Assert.ThrowsAny<Exception>(() => Run(corpus, data =>
        {
            if (data.Length < shortest) _ = data[data.Length];
            throw new ModelFileException("x", "rejected");
        }, 1));
    }

    [Fact]
    public void Harness_fails_on_an_oversized_allocation()
    {
        var corpus = ModelFileCorpus.Load(".safetensors");
        // A "reader" that trusts a length field: allocates 80 MB when the first byte changed.
        byte first = corpus[0].Bytes[0];
        Assert.ThrowsAny<Exception>(() => Run(corpus, data =>
        {
            if (data.Length > 0 && data[0] != first) GC.KeepAlive(new byte[80 << 20]);
            throw new ModelFileException("x", "rejected");
        }, 1));
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    [Fact]
    public void Gguf_mutations_parse_or_throw_ModelFileException() => Fuzz("GGUF", ".gguf", data =>
    {
        using GgufFile f = GgufFile.Parse(data, "fuzz.gguf");
        long sum = 0;
        foreach (GgufTensorInfo t in f.Tensors)
        {
            ReadOnlySpan<byte> d = f.GetTensorData(t);
            if (d.Length > 0) sum += d[0] + d[^1];
        }
        foreach (var kv in f.MetadataInOrder) sum += kv.Value.ToString().Length;
        GC.KeepAlive(sum);
    });

    [Fact]
    public void Safetensors_mutations_parse_or_throw_ModelFileException() => Fuzz("safetensors", ".safetensors", data =>
    {
        using SafetensorsFile f = SafetensorsFile.Parse(data, "fuzz.safetensors");
        long sum = 0;
        foreach (SafetensorsTensorInfo t in f.Tensors)
        {
            ReadOnlySpan<byte> d = f.GetTensorData(t);
            if (d.Length > 0) sum += d[0] + d[^1];
        }
        GC.KeepAlive(sum);
    });

    [Fact]
    public void Llama2c_mutations_parse_or_throw_ModelFileException() => Fuzz("llama2.c", ".bin", data =>
    {
        // Checkpoint and tokenizer corpus files share the suffix; each input goes through both readers.
        Exception? first = null;
        try
        {
            using Llama2cCheckpoint m = Llama2cCheckpoint.Parse(data, "fuzz.bin");
            float sum = 0;
            foreach (Llama2cTensor t in m.Tensors)
            {
                ReadOnlySpan<float> w = m.GetWeights(t.Name);
                sum += w[0] + w[^1];
            }
            GC.KeepAlive(sum);
        }
        catch (ModelFileException e)
        {
            first = e;
        }
        try
        {
            Llama2cTokenizer tok = Llama2cTokenizer.Parse(data, ModelFileCorpus.TinyPieces.Length, "fuzz-tok.bin");
            GC.KeepAlive(tok);
        }
        catch (ModelFileException) when (first is not null)
        {
            throw first;
        }
        catch (ModelFileException)
        {
        }
    });
}

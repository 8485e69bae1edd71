namespace Quanta.Core.ModelFiles.Llama2c;

/// <summary>
/// A llama2.c tokenizer .bin: int32 max_token_length, then for each of vocab_size tokens (a count the
/// model header supplies) a float32 score, an int32 byte length and that many UTF-8 bytes. Lengths are
/// checked against max_token_length and the bytes remaining, strings must be valid UTF-8, and the file
/// must end exactly after the last token. Defects throw <see cref="ModelFileException"/>.
/// </summary>
public sealed class Llama2cTokenizer
{
    private readonly string[] _pieces;
    private readonly float[] _scores;

    private Llama2cTokenizer(int maxTokenLength, string[] pieces, float[] scores)
    {
        MaxTokenLength = maxTokenLength;
        _pieces = pieces;
        _scores = scores;
    }

    /// <summary>Longest piece in bytes, as the file declares it.</summary>
    public int MaxTokenLength { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => _pieces.Length;

    /// <summary>Token pieces by id (byte tokens are the text "&lt;0xHH&gt;"; "▁" already replaced by a space).</summary>
    public IReadOnlyList<string> Pieces => _pieces;

    /// <summary>Merge scores by id (higher merges earlier).</summary>
    public ReadOnlySpan<float> Scores => _scores;

    /// <summary>Reads the tokenizer at <paramref name="path"/> holding <paramref name="vocabSize"/> tokens.</summary>
    /// <exception cref="ModelFileException">The file is malformed or holds a different number of tokens.</exception>
    public static Llama2cTokenizer Open(string path, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        using ByteRegion region = ByteRegion.MapFile(path);
        return Parse(region, path, vocabSize);
    }

    /// <summary>Parses tokenizer bytes held in memory; <paramref name="name"/> labels them in errors.</summary>
    /// <exception cref="ModelFileException">The data is malformed.</exception>
    public static Llama2cTokenizer Parse(byte[] data, int vocabSize, string name = "<memory>")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        using ByteRegion region = ByteRegion.Pin(data);
        return Parse(region, name, vocabSize);
    }

    private static unsafe Llama2cTokenizer Parse(ByteRegion region, string name, int vocabSize)
    {
        var c = new ByteCursor(region.Pointer, region.Length, name);
        int maxLen = c.ReadInt32("max_token_length");
        if (maxLen <= 0) throw c.Error($"max_token_length {maxLen} must be positive");
        // Each token takes at least 8 bytes (score and length).
        if (vocabSize > c.Remaining / 8)
            throw c.Error($"{vocabSize} tokens cannot fit in the {c.Remaining} bytes remaining");
        var pieces = new string[vocabSize];
        var scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            scores[i] = c.ReadFloat32("score of token", null, i);
            long at = c.Position;
            int len = c.ReadInt32("length of token", null, i);
            if (len < 0 || len > maxLen)
                throw c.Error($"token {i} length {len} at offset {at} is outside 0..max_token_length {maxLen}");
            pieces[i] = c.ReadUtf8(len, "token", null, i);
        }
        if (c.Remaining != 0)
            throw c.Error($"{c.Remaining} unexpected bytes after the last of {vocabSize} tokens (vocab size mismatch?)");
        return new Llama2cTokenizer(maxLen, pieces, scores);
    }
}

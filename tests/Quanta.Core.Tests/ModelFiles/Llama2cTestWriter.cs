using System.Buffers.Binary;
using Quanta.Core.ModelFiles.Llama2c;

namespace Quanta.Core.Tests.ModelFiles;

/// <summary>
/// Writes small llama2.c checkpoints and tokenizers following the layout in shared/testdata/README.md
/// (section 1), independently of the reader. Tensor k (in file order) holds k * 1000 + i at index i,
/// so a test can tell which bytes a name maps to.
/// </summary>
internal static class Llama2cTestWriter
{
    /// <summary>(name, element count) in file order for a config and format.</summary>
    public static List<(string Name, int Count)> Layout(Llama2cConfig c, bool version1)
    {
        int hs = c.Dim / c.NHeads, kv = c.NKvHeads * hs, L = c.NLayers;
        var att = new List<(string, int)> { ("wq", L * c.Dim * c.Dim), ("wk", L * kv * c.Dim), ("wv", L * kv * c.Dim), ("wo", L * c.Dim * c.Dim) };
        var ffn = new List<(string, int)> { ("w1", L * c.HiddenDim * c.Dim), ("w2", L * c.Dim * c.HiddenDim), ("w3", L * c.HiddenDim * c.Dim) };
        var list = new List<(string, int)>();
        if (!version1)
        {
            list.Add(("token_embedding_table", c.VocabSize * c.Dim));
            list.Add(("rms_att_weight", L * c.Dim));
            list.AddRange(att);
            list.Add(("rms_ffn_weight", L * c.Dim));
            list.AddRange(ffn);
            list.Add(("rms_final_weight", c.Dim));
            list.Add(("freq_cis_real", c.SeqLen * (hs / 2)));
            list.Add(("freq_cis_imag", c.SeqLen * (hs / 2)));
        }
        else
        {
            list.Add(("rms_att_weight", L * c.Dim));
            list.Add(("rms_ffn_weight", L * c.Dim));
            list.Add(("rms_final_weight", c.Dim));
            list.Add(("token_embedding_table", c.VocabSize * c.Dim));
            list.AddRange(att);
            list.AddRange(ffn);
        }
        if (!c.SharedClassifier) list.Add(("wcls", c.VocabSize * c.Dim));
        return list;
    }

    public static byte[] Checkpoint(Llama2cConfig c, bool version1)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        if (version1)
        {
            w.Write(0x616b3432u);
            w.Write(1);
        }
        w.Write(c.Dim); w.Write(c.HiddenDim); w.Write(c.NLayers); w.Write(c.NHeads); w.Write(c.NKvHeads);
        w.Write(version1 || c.SharedClassifier ? c.VocabSize : -c.VocabSize);
        w.Write(c.SeqLen);
        if (version1)
        {
            w.Write((byte)(c.SharedClassifier ? 1 : 0));
            while (ms.Length < 256) w.Write((byte)0);
        }
        int k = 0;
        foreach (var (_, count) in Layout(c, version1))
        {
            for (int i = 0; i < count; i++) w.Write((float)(k * 1000 + i));
            k++;
        }
        w.Flush();
        return ms.ToArray();
    }

    public static byte[] Tokenizer(IReadOnlyList<string> pieces, IReadOnlyList<float> scores)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        int max = 0;
        foreach (string p in pieces) max = Math.Max(max, System.Text.Encoding.UTF8.GetByteCount(p));
        w.Write(max);
        for (int i = 0; i < pieces.Count; i++)
        {
            byte[] b = System.Text.Encoding.UTF8.GetBytes(pieces[i]);
            w.Write(scores[i]);
            w.Write(b.Length);
            w.Write(b);
        }
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>Overwrites int32 header field <paramref name="index"/> (0 = dim .. 6 = seq_len) of a legacy file.</summary>
    public static byte[] WithLegacyHeaderField(byte[] file, int index, int value)
    {
        byte[] copy = (byte[])file.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(index * 4), value);
        return copy;
    }
}

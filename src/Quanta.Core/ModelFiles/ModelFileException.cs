namespace Quanta.Core.ModelFiles;

/// <summary>
/// Thrown for every malformed model file (GGUF, safetensors, llama2.c): wrong magic, unsupported
/// version, truncation, impossible counts or sizes, out-of-range offsets, unknown types, invalid
/// UTF-8, duplicates, misalignment, overflowing shapes and so on. The message has the form
/// "<c>path: defect</c>", e.g. "model.gguf: tensor 'blk.0.attn_q.weight' data [offset 123, 4096 bytes]
/// runs past the end of the file (size 2000)". Readers never let a hostile file surface as another
/// exception type (index errors, overflow, out-of-memory).
/// </summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a one-line <paramref name="defect"/>.</summary>
    public ModelFileException(string filePath, string defect, Exception? innerException = null)
        : base($"{filePath}: {defect}", innerException)
    {
        FilePath = filePath;
        Defect = defect;
    }

    /// <summary>The file as the caller named it (a path, or a label for in-memory data).</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with the file, without the file name.</summary>
    public string Defect { get; }
}

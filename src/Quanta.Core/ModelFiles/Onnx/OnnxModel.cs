namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>An operator set the model imports: domain ("" or "ai.onnx" is the default domain) and version.</summary>
public readonly record struct OnnxOpsetImport(string Domain, long Version);

/// <summary>
/// A parsed ONNX ModelProto. Load with <see cref="Load"/> or <see cref="Parse"/>; malformed or hostile
/// files throw <see cref="ModelFileException"/> naming the file and the defect. Tensors with external data
/// are rejected.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>ONNX IR version.</summary>
    public long IrVersion { get; init; }
    /// <summary>Producer name, e.g. "pytorch".</summary>
    public string ProducerName { get; init; } = "";
    /// <summary>Imported operator sets.</summary>
    public IReadOnlyList<OnnxOpsetImport> OpsetImports { get; init; } = [];
    /// <summary>The main graph.</summary>
    public OnnxGraph Graph { get; init; } = new();

    /// <summary>Opset version of the default ONNX domain (0 if not imported).</summary>
    public long DefaultOpset
    {
        get
        {
            foreach (var o in OpsetImports) if (o.Domain is "" or "ai.onnx") return o.Version;
            return 0;
        }
    }

    /// <summary>Reads and parses a .onnx file.</summary>
    public static OnnxModel Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new ModelFileException(path, $"cannot read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses ModelProto bytes; <paramref name="fileLabel"/> names the data in errors.</summary>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string fileLabel) => OnnxParser.ParseModel(bytes, fileLabel);

    /// <summary>Parses a serialized TensorProto (the ONNX test-data .pb files).</summary>
    public static OnnxTensor ParseTensor(ReadOnlySpan<byte> bytes, string fileLabel) => OnnxParser.ParseTensorFile(bytes, fileLabel);
}

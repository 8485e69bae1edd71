namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>ONNX AttributeProto.AttributeType (values as in onnx.proto).</summary>
public enum OnnxAttributeType
{
    /// <summary>Not set (old files): the type is inferred from the field present.</summary>
    Undefined = 0,
    /// <summary>One float (f).</summary>
    Float = 1,
    /// <summary>One int64 (i).</summary>
    Int = 2,
    /// <summary>One byte string (s).</summary>
    String = 3,
    /// <summary>One tensor (t).</summary>
    Tensor = 4,
    /// <summary>One graph (g).</summary>
    Graph = 5,
    /// <summary>Floats.</summary>
    Floats = 6,
    /// <summary>Int64s.</summary>
    Ints = 7,
    /// <summary>Byte strings.</summary>
    Strings = 8,
    /// <summary>Tensors.</summary>
    Tensors = 9,
    /// <summary>Graphs.</summary>
    Graphs = 10,
    /// <summary>Sparse tensor (not supported).</summary>
    SparseTensor = 11,
    /// <summary>Sparse tensors (not supported).</summary>
    SparseTensors = 12,
    /// <summary>Type proto (kept only as its element type).</summary>
    TypeProto = 13,
    /// <summary>Type protos (kept only as element types).</summary>
    TypeProtos = 14,
}

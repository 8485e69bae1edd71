namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>ONNX TensorProto.DataType element types (values as in onnx.proto).</summary>
public enum OnnxDataType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>IEEE 754 binary32.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>Byte strings (UTF-8 by convention).</summary>
    String = 8,
    /// <summary>Boolean, one byte.</summary>
    Bool = 9,
    /// <summary>IEEE 754 binary16.</summary>
    Float16 = 10,
    /// <summary>IEEE 754 binary64.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Two binary32 values (not supported by the reader).</summary>
    Complex64 = 14,
    /// <summary>Two binary64 values (not supported by the reader).</summary>
    Complex128 = 15,
    /// <summary>Brain float: the upper 16 bits of a binary32.</summary>
    BFloat16 = 16,
}

/// <summary>Sizes of the ONNX element types the reader supports.</summary>
public static class OnnxDataTypes
{
    /// <summary>Bytes per element in raw_data, or 0 for types the reader does not support (strings included).</summary>
    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        OnnxDataType.Int64 or OnnxDataType.UInt64 or OnnxDataType.Double => 8,
        _ => 0,
    };
}

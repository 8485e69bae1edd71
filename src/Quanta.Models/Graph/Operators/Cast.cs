using Quanta.Core.ModelFiles.Onnx;

namespace Quanta.Models.Graph.Operators;

/// <summary>
/// ONNX Cast (and CastLike). Targets are mapped to the executor's types: float types to Float32 (FLOAT16 and
/// BFLOAT16 round through their precision), integer types to Int64 (wrapped to the target's range), BOOL to Bool.
/// </summary>
internal sealed class Cast : GraphOperator
{
    private readonly OnnxDataType _to;

    public Cast(GraphNode node) : base(node)
    {
        _to = (OnnxDataType)node.Int("to", 0);
        if (node.OpType == "Cast" && (_to is OnnxDataType.String or OnnxDataType.Undefined || OnnxDataTypes.ElementSize(_to) == 0))
            throw node.Unsupported($"cast to {_to}");
        if (node.Int("saturate", 1) != 1) throw node.Unsupported("saturate=0");
    }

    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var to = _to;
        if (Node.OpType == "CastLike")
        {
            var like = ctx.Input(1);
            to = like.Type switch { TensorElementType.Float32 => OnnxDataType.Float, TensorElementType.Int64 => OnnxDataType.Int64, _ => OnnxDataType.Bool };
        }
        switch (to)
        {
            case OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 or OnnxDataType.BFloat16:
            {
                var y = ctx.OutputF(0, x.Shape).Floats;
                for (int i = 0; i < y.Length; i++)
                {
                    float v = (float)x.Get(i);
                    y[i] = to switch
                    {
                        OnnxDataType.Float16 => (float)(Half)v,
                        OnnxDataType.BFloat16 => RoundBf16(v),
                        _ => v,
                    };
                }
                break;
            }
            case OnnxDataType.Bool:
            {
                var y = ctx.Output(0, TensorElementType.Bool, x.Shape).Bools;
                for (int i = 0; i < y.Length; i++) y[i] = x.Get(i) != 0;
                break;
            }
            default:
            {
                var y = ctx.Output(0, TensorElementType.Int64, x.Shape).Longs;
                for (int i = 0; i < y.Length; i++)
                {
                    long v = x.Type == TensorElementType.Int64 ? x.L![i] : x.Type == TensorElementType.Bool ? (x.B![i] ? 1 : 0) : FloatToLong(x.F![i]);
                    y[i] = to switch
                    {
                        OnnxDataType.Int8 => (sbyte)v,
                        OnnxDataType.UInt8 => (byte)v,
                        OnnxDataType.Int16 => (short)v,
                        OnnxDataType.UInt16 => (ushort)v,
                        OnnxDataType.Int32 => (int)v,
                        OnnxDataType.UInt32 => (uint)v,
                        _ => v,
                    };
                }
                break;
            }
        }
    }

    private static long FloatToLong(float f) => float.IsNaN(f) ? 0 : (long)f;

    private static float RoundBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return v;
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000);
    }
}

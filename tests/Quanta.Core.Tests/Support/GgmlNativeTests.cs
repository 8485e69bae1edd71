using Quanta.Core.Formats;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.Formats;

public class GgmlTypeInfoTests
{
    [Theory]
    [InlineData(GgmlType.F32)] [InlineData(GgmlType.F16)] [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q4_0)] [InlineData(GgmlType.Q4_1)] [InlineData(GgmlType.Q5_0)] [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)] [InlineData(GgmlType.Q8_1)] [InlineData(GgmlType.Q2_K)] [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)] [InlineData(GgmlType.Q5_K)] [InlineData(GgmlType.Q6_K)] [InlineData(GgmlType.Q8_K)]
    [InlineData(GgmlType.IQ2_XXS)] [InlineData(GgmlType.IQ2_XS)] [InlineData(GgmlType.IQ3_XXS)] [InlineData(GgmlType.IQ1_S)]
    [InlineData(GgmlType.IQ4_NL)] [InlineData(GgmlType.IQ3_S)] [InlineData(GgmlType.IQ2_S)] [InlineData(GgmlType.IQ4_XS)]
    [InlineData(GgmlType.IQ1_M)] [InlineData(GgmlType.TQ1_0)] [InlineData(GgmlType.TQ2_0)] [InlineData(GgmlType.MXFP4)]
    [InlineData(GgmlType.I8)] [InlineData(GgmlType.I16)] [InlineData(GgmlType.I32)] [InlineData(GgmlType.I64)] [InlineData(GgmlType.F64)]
    public void Block_geometry_matches_ggml(GgmlType type)
    {
        var t = GgmlNative.Traits((int)type);
        Assert.True(GgmlTypeInfo.TryGet(type, out int block, out int size));
        Assert.Equal(t.BlockSize, block);
        Assert.Equal((long)t.TypeSize, size);
    }
}

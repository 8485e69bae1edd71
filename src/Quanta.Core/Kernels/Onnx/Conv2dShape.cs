namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Geometry of one image of a 2-D convolution for <see cref="SgemmConv"/>: input [Channels, Height, Width] (the
/// channels of one group), kernel KernelH×KernelW, strides, dilations, top/left padding (bottom/right padding is implied
/// by the output size) and output OutH×OutW. <see cref="Rows"/> = Channels·KernelH·KernelW is the inner dimension of
/// the lowered product.
/// </summary>
public readonly record struct Conv2dShape(int Channels, int Height, int Width, int KernelH, int KernelW, int StrideH, int StrideW,
    int DilationH, int DilationW, int PadTop, int PadLeft, int OutH, int OutW)
{
    /// <summary>Rows of the patch matrix: Channels·KernelH·KernelW.</summary>
    public int Rows => Channels * KernelH * KernelW;
    /// <summary>Output pixels: OutH·OutW.</summary>
    public int Plane => OutH * OutW;
    /// <summary>Whether the convolution is a plain 1×1, stride 1, unpadded one (the image is already the patch matrix).</summary>
    public bool Pointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadTop == 0 && PadLeft == 0 && OutH == Height && OutW == Width;

    internal void Validate()
    {
        if (Channels <= 0 || Height <= 0 || Width <= 0 || KernelH <= 0 || KernelW <= 0 || StrideH <= 0 || StrideW <= 0 || DilationH <= 0 || DilationW <= 0
            || PadTop < 0 || PadLeft < 0 || OutH <= 0 || OutW <= 0)
            throw new ArgumentException($"invalid convolution geometry {this}");
    }
}

namespace Quanta.Core.Kernels.Ops;

/// <summary>RoPE frequency-scaling helpers: Llama-3 frequency factors and YaRN's correction range (ggml formulas).</summary>
public static class RopeScaling
{
    /// <summary>
    /// Llama-3 ("rope_type": "llama3") per-pair frequency factors ff[i] (divisors of θ_i, llama.cpp's rope_freqs), for
    /// <paramref name="rotaryDims"/> rotated dims: with inv_freq_i = base^(−2i/n) and wavelength λ_i = 2π/inv_freq_i,
    /// ff = 1 when λ &lt; oldCtx/highFreqFactor, ff = factor when λ &gt; oldCtx/lowFreqFactor, otherwise
    /// ff = 1/((1 − t)/factor + t) with t = (oldCtx/λ − lowFreqFactor)/(highFreqFactor − lowFreqFactor).
    /// This equals Hugging Face's _compute_llama3_parameters (inv_freq_llama = inv_freq/ff). <paramref name="factors"/> is [rotaryDims/2].
    /// </summary>
    public static void Llama3FrequencyFactors(int rotaryDims, float freqBase, float factor, float lowFreqFactor, float highFreqFactor,
        int originalMaxPositions, Span<float> factors)
    {
        int half = rotaryDims / 2;
        if (factors.Length < half) throw new ArgumentException("factors must hold rotaryDims/2 values.", nameof(factors));
        double lowWavelen = originalMaxPositions / (double)lowFreqFactor;
        double highWavelen = originalMaxPositions / (double)highFreqFactor;
        for (int i = 0; i < half; i++)
        {
            double invFreq = Math.Pow(freqBase, -2.0 * i / rotaryDims);
            double wavelen = 2 * Math.PI / invFreq;
            double ff;
            if (wavelen < highWavelen) ff = 1.0;
            else if (wavelen > lowWavelen) ff = factor;
            else
            {
                double t = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                ff = 1.0 / ((1 - t) / factor + t);
            }
            factors[i] = (float)ff;
        }
    }

    /// <summary>
    /// ggml_rope_yarn_corr_dims: dims[0] = max(0, floor(d(β_fast))), dims[1] = min(n − 1, ceil(d(β_slow))) with
    /// d(r) = n·ln(nCtxOrig/(r·2π)) / (2·ln base), evaluated in float like ggml. <paramref name="dims"/> is [2].
    /// </summary>
    public static void YarnCorrectionDims(int nDims, int nCtxOrig, float freqBase, float betaFast, float betaSlow, Span<float> dims)
    {
        if (dims.Length < 2) throw new ArgumentException("dims must hold 2 values.", nameof(dims));
        float start = MathF.Floor(CorrDim(nDims, nCtxOrig, betaFast, freqBase));
        float end = MathF.Ceiling(CorrDim(nDims, nCtxOrig, betaSlow, freqBase));
        dims[0] = MathF.Max(0f, start);
        dims[1] = MathF.Min(nDims - 1, end);
    }

    private static float CorrDim(int nDims, int nCtxOrig, float nRot, float freqBase) =>
        nDims * MathF.Log(nCtxOrig / (nRot * 2 * MathF.PI)) / (2 * MathF.Log(freqBase));

    /// <summary>
    /// ggml rope_yarn_ramp: 1 − clamp((i0/2 − low)/max(0.001, high − low), 0, 1), i0 the even dimension index
    /// (integer i0/2 as in ggml). Evaluated in double (ggml uses float; the formula is the same).
    /// </summary>
    public static double YarnRamp(float low, float high, int i0)
    {
        double y = (i0 / 2 - (double)low) / Math.Max(0.001, (double)high - low);
        return 1.0 - Math.Min(1.0, Math.Max(0.0, y));
    }
}

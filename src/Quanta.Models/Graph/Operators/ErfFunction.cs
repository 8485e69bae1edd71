namespace Quanta.Models.Graph.Operators;

/// <summary>The error function (.NET has none): W. J. Cody's rational approximations in double, |error| &lt; 1e-15 relative.</summary>
internal static class ErfFunction
{
    public static float Erf(float x) => (float)Erf((double)x);

    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax < 0.5)
        {
            // erf(x) = x * P(x²)/Q(x²)
            double t = x * x;
            double num = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) * t + 377.485237685302021) * t + 3209.37758913846947;
            double den = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t + 2844.23683343917062;
            return x * num / den;
        }
        double erfc;
        if (ax < 4)
        {
            double num = (((((((5.64188496988670089e-1 * ax + 8.88314979438837594) * ax + 66.1191906371416295) * ax + 298.635138197400131) * ax
                + 881.952221241769090) * ax + 1712.04761263407058) * ax + 2051.07837782607147) * ax + 1230.33935479799725);
            double den = (((((((ax + 15.7449261107098347) * ax + 117.693950891312499) * ax + 537.181101862009858) * ax + 1621.38957456669019) * ax
                + 3290.79923573345963) * ax + 4362.61909014324716) * ax + 3439.36767414372164) * ax + 1230.33935480374942;
            erfc = Math.Exp(-ax * ax) * num / den;
        }
        else
        {
            if (ax > 6) return Math.Sign(x);
            double z = 1 / (ax * ax);
            double num = ((((1.63153871373020978e-2 * z + 3.05326634961232344e-1) * z + 3.60344899949804439e-1) * z + 1.25781726111229246e-1) * z
                + 1.60837851487422766e-2) * z + 6.58749161529837803e-4;
            double den = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 5.27905102951428412e-1) * z + 6.05183413124413191e-2) * z
                + 2.33520497626869185e-3;
            erfc = Math.Exp(-ax * ax) / ax * (0.564189583547756287 - z * num / den);
        }
        return x < 0 ? erfc - 1 : 1 - erfc;
    }
}

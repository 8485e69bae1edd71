namespace Quanta.Planner.Validation;

/// <summary>Nelder-Mead simplex minimization (standard reflection 1, expansion 2, contraction 0.5, shrink 0.5).</summary>
public static class NelderMead
{
    /// <summary>Minimizes <paramref name="f"/> from <paramref name="start"/>; returns the best point found.</summary>
    /// <param name="f">Objective.</param>
    /// <param name="start">Initial point.</param>
    /// <param name="step">Initial simplex edge along each axis.</param>
    /// <param name="maxEvaluations">Evaluation budget.</param>
    public static double[] Minimize(Func<double[], double> f, double[] start, double step, int maxEvaluations)
    {
        int n = start.Length;
        var pts = new double[n + 1][];
        var vals = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            pts[i] = (double[])start.Clone();
            if (i > 0) pts[i][i - 1] += step;
            vals[i] = f(pts[i]);
        }
        int evals = n + 1;
        while (evals < maxEvaluations)
        {
            var order = Enumerable.Range(0, n + 1).OrderBy(i => vals[i]).ToArray();
            pts = order.Select(i => pts[i]).ToArray();
            vals = order.Select(i => vals[i]).ToArray();
            if (Math.Abs(vals[n] - vals[0]) < 1e-12) break;
            var centroid = new double[n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) centroid[j] += pts[i][j] / n;
            double[] Along(double t) => centroid.Select((c, j) => c + t * (pts[n][j] - c)).ToArray();
            var xr = Along(-1); double fr = f(xr); evals++;
            if (fr < vals[0])
            {
                var xe = Along(-2); double fe = f(xe); evals++;
                (pts[n], vals[n]) = fe < fr ? (xe, fe) : (xr, fr);
            }
            else if (fr < vals[n - 1]) (pts[n], vals[n]) = (xr, fr);
            else
            {
                var xc = Along(fr < vals[n] ? -0.5 : 0.5); double fc = f(xc); evals++;
                if (fc < Math.Min(fr, vals[n])) (pts[n], vals[n]) = (xc, fc);
                else
                {
                    for (int i = 1; i <= n; i++)
                    {
                        pts[i] = pts[i].Select((x, j) => pts[0][j] + 0.5 * (x - pts[0][j])).ToArray();
                        vals[i] = f(pts[i]); evals++;
                    }
                }
            }
        }
        int best = Array.IndexOf(vals, vals.Min());
        return pts[best];
    }
}

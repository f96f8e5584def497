using System.Diagnostics;
using System.Security.Cryptography;

namespace EdgeSigner.Benchmarks.Ceilings;

/// <summary>The crypto ceiling: P-256 signatures of a 32-byte digest per second, on one core and on all of them.</summary>
public static class RawEcdsa
{
    public static (double OneCore, double AllCores) SignsPerSecond(TimeSpan duration)
    {
        return (Measure(1, duration), Measure(Environment.ProcessorCount, duration));
    }

    private static double Measure(int threads, TimeSpan duration)
    {
        long total = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var digest = SHA256.HashData("edgesigner"u8);
            long signs = 0;
            while (watch.Elapsed < duration)
            {
                key.SignHash(digest);
                signs++;
            }

            Interlocked.Add(ref total, signs);
        });
        return total / watch.Elapsed.TotalSeconds;
    }
}

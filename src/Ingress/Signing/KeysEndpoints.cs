using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Signing;

/// <summary>
/// <c>GET /v1/keys</c>: the JWKS of the keys the workers sign with, as they announce them (<see cref="PublishedKeys"/>).
/// <c>GET /v1/keys/{kid}.pem</c>: one of them as a PEM public key, for openssl. Both public.
/// </summary>
public static class KeysEndpoints
{
    public sealed record Jwks(IReadOnlyList<PublishedKeys.Jwk> Keys);

    public static RouteGroupBuilder MapKeys(this RouteGroupBuilder v1)
    {
        v1.MapGet("/keys", (PublishedKeys keys) => TypedResults.Ok(new Jwks(keys.Current().Keys.Select(k => k.Jwk).ToList())))
            .AllowAnonymous();
        v1.MapGet("/keys/{kid}.pem", Results<ContentHttpResult, ProblemHttpResult> (string kid, PublishedKeys keys) =>
                keys.Current().Keys.FirstOrDefault(k => k.Kid == kid) is { } key
                    ? TypedResults.Text(Pem(key.PublicKey), "application/x-pem-file")
                    : Hosting.Problems.NotFound($"No published key has kid '{kid}'."))
            .AllowAnonymous();
        return v1;
    }

    private static string Pem(byte[] subjectPublicKeyInfo) =>
        new string(System.Security.Cryptography.PemEncoding.Write("PUBLIC KEY", subjectPublicKeyInfo)) + "\n";
}

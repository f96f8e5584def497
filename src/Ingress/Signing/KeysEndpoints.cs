using EdgeSigner.SignWorker.Keys;

namespace EdgeSigner.Ingress.Signing;

/// <summary><c>GET /v1/keys</c>: the JWKS of every configured key. Public.</summary>
public static class KeysEndpoints
{
    public sealed record Jwk(string Kty, string Crv, string X, string Y, string Kid, string Alg, string Use);

    public sealed record Jwks(IReadOnlyList<Jwk> Keys);

    public static RouteGroupBuilder MapKeys(this RouteGroupBuilder v1)
    {
        v1.MapGet("/keys", (SigningKeyRegistry registry) => TypedResults.Ok(new Jwks(registry.Keys.Select(ToJwk).ToList())))
            .AllowAnonymous();
        return v1;
    }

    public static Jwk ToJwk(SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var q = key.PublicParameters().Q;
        return new Jwk("EC", "P-256", System.Buffers.Text.Base64Url.EncodeToString(q.X),
            System.Buffers.Text.Base64Url.EncodeToString(q.Y), key.Kid, "ES256", "sig");
    }
}

using System.Security.Claims;
using System.Text.Encodings.Web;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>
/// <c>Authorization: Bearer &lt;api key&gt;</c> for tenant endpoints: the key's hash must belong to an unrevoked key
/// of an enabled tenant (looked up once, then held in <see cref="ApiKeyCache"/>). Failures answer 401
/// <c>unauthenticated</c>, or 403 <c>tenant_disabled</c>.
/// </summary>
public sealed class TenantAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IngressDbContext db,
    ApiKeyCache credentials) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "TenantApiKey";
    public const string TenantIdClaim = "tenant_id";
    public const string RateClaim = "rate_per_second";
    public const string BurstClaim = "burst";
    private const string DisabledMarker = "edgesigner.tenant_disabled";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var apiKey = BearerToken.From(Request);
        if (apiKey is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiKeys.IsWellFormed(apiKey))
        {
            return AuthenticateResult.Fail("Malformed API key.");
        }

        var hash = ApiKeys.Hash(apiKey);
        var match = credentials.Find(Convert.ToHexString(hash));
        if (match is null)
        {
            var generation = credentials.Generation;
            match = await db.ApiKeys.AsNoTracking()
                .Where(k => k.KeyHash == hash && k.RevokedAt == null)
                .Join(db.Tenants, k => k.TenantId, t => t.TenantId, (k, t) => new TenantCredential(t.TenantId, k.KeyId, t.Disabled, t.RatePerSecond, t.Burst))
                .FirstOrDefaultAsync(Context.RequestAborted);
            if (match is null)
            {
                return AuthenticateResult.Fail("Unknown or revoked API key.");
            }

            credentials.Add(Convert.ToHexString(hash), match, generation);
        }

        if (match.Disabled)
        {
            Context.Items[DisabledMarker] = true;
            return AuthenticateResult.Fail("The tenant is disabled.");
        }

        var claims = new List<Claim> { new(TenantIdClaim, match.TenantId), new("key_id", match.KeyId) };
        if (match.RatePerSecond is { } rate)
        {
            claims.Add(new Claim(RateClaim, rate.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (match.Burst is { } burst)
        {
            claims.Add(new Claim(BurstClaim, burst.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var disabled = Context.Items.ContainsKey(DisabledMarker);
        var problem = disabled
            ? Problems.Create(StatusCodes.Status403Forbidden, ErrorTypes.TenantDisabled, "This tenant has been disabled by an operator.")
            : Problems.Create(StatusCodes.Status401Unauthorized, ErrorTypes.Unauthenticated, "Send 'Authorization: Bearer <api key>' with a valid key.");
        if (!disabled)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
        }

        return problem.ExecuteAsync(Context);
    }
}

public static class BearerToken
{
    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null when there is none.</summary>
    public static string? From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : null;
    }
}

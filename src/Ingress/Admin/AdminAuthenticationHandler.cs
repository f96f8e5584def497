using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.Tenants;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Admin;

/// <summary>
/// <c>Authorization: Bearer &lt;admin token&gt;</c> for <c>/admin</c>. Both sides are hashed to a fixed length and
/// compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, so the comparison takes the same time
/// whatever the guess. With no token configured, nothing is admitted.
/// </summary>
public sealed class AdminAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<AdminOptions> admin) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "AdminToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = BearerToken.From(Request);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!IsAdminToken(token, admin.Value.Token))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin token."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Create(StatusCodes.Status401Unauthorized, ErrorTypes.Unauthenticated,
            "Send 'Authorization: Bearer <admin token>'.").ExecuteAsync(Context);
    }

    /// <summary>Constant-time check of a presented token against the configured one; false when none is configured.</summary>
    public static bool IsAdminToken(string presented, string? configured)
    {
        ArgumentNullException.ThrowIfNull(presented);
        if (string.IsNullOrEmpty(configured))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }
}

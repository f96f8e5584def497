using System.Security.Cryptography;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>
/// Embedded mode's dev tenant key and admin token: taken from <c>EdgeSigner:Dev:ApiKey</c> and
/// <c>EdgeSigner:Admin:Token</c> when set, otherwise generated for this run and printed once at start.
/// </summary>
public sealed record DevCredentials(string ApiKey, bool ApiKeyGenerated, string AdminToken, bool AdminTokenGenerated)
{
    public const string TenantId = "dev";
    public const string ApiKeySetting = "EdgeSigner:Dev:ApiKey";
    public const string AdminTokenSetting = "EdgeSigner:Admin:Token";

    /// <summary>Reads or generates both secrets; a generated admin token is put into configuration for the admin check.</summary>
    public static DevCredentials Resolve(IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var apiKey = configuration[ApiKeySetting];
        var adminToken = configuration[AdminTokenSetting];
        var credentials = new DevCredentials(
            string.IsNullOrEmpty(apiKey) ? ApiKeys.Generate() : apiKey, string.IsNullOrEmpty(apiKey),
            string.IsNullOrEmpty(adminToken) ? "adm_" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)) : adminToken,
            string.IsNullOrEmpty(adminToken));
        if (credentials.AdminTokenGenerated)
        {
            configuration[AdminTokenSetting] = credentials.AdminToken;
        }

        if (!ApiKeys.IsWellFormed(credentials.ApiKey))
        {
            throw new EdgeSigner.ServiceDefaults.InvalidSettingException($"{ApiKeySetting} must be 16 to 256 visible ASCII characters.");
        }

        return credentials;
    }
}

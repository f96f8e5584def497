namespace EdgeSigner.Contracts.Tbs;

/// <summary>The output formats of the contract; each decides what the to-be-signed bytes are.</summary>
public static class SignatureFormats
{
    public const string Raw = "raw";
    public const string Jws = "jws";
    public const string Cose = "cose";

    public static bool IsKnown(string? format) => format is Raw or Jws or Cose;
}

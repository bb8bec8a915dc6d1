describe("stack selection (Pulumi mocks)", () => {
  it("refuses a stack name other than network or storage, saying how to create one", async () => {
    process.env["PULUMI_CONFIG"] = "{}";
    const pulumi = await import("@pulumi/pulumi");
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs },
      "homelab",
      "media",
      true,
    );
    const { main } = await import("../../program");
    await expect(main()).rejects.toThrow(
      /unknown stack "media": this program deploys the stacks network and storage; create one with `pulumi stack init network`/,
    );
  });
});

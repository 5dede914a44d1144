"""BLS12-381 curve parameters, derived from the curve's seed x wherever they can be.

Everything here is a Python int (or tuple of ints); limb arrays are made by `kernels.ff`.
"""

# The BLS12 seed. p and r follow from it; the tests check both against the published values.
X = -0xD201000000010000
R = X**4 - X**2 + 1                                  # order of G1, G2, GT; the scalar field Fr
P = ((X - 1) ** 2 * R) // 3 + X                      # the base field Fq
assert R == 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
assert P.bit_length() == 381 and P % 4 == 3

# E1: y^2 = x^3 + 4 over Fq; E2: y^2 = x^3 + 4(1 + i) over Fq2 = Fq[i]/(i^2 + 1).
B1 = 4
B2 = (4, 4)

# Cofactors: |E1(Fq)| = h1 * r, |E2(Fq2)| = h2 * r.
H1 = (X - 1) ** 2 // 3
H2 = (X**8 - 4 * X**7 + 5 * X**6 - 4 * X**4 + 6 * X**3 - 4 * X**2 - 4 * X + 13) // 9

# The standard generators (zkcrypto / IETF pairing-friendly-curves draft, same as py_ecc).
G1_GENERATOR = (
    0x17F1D3A73197D7942695638C4FA9AC0FC3688C4F9774B905A14E3A3F171BAC586C55E83FF97A1AEFFB3AF00ADB22C6BB,
    0x08B3F481E3AAA0F1A09E30ED741D8AE4FCF5E095D5D00AF600DB18CB2C04B3EDD03CC744A2888AE40CAA232946C5E7E1,
)
G2_GENERATOR = (
    (
        0x024AA2B2F08F0A91260805272DC51051C6E47AD4FA403B02B4510B647AE3D1770BAC0326A805BBEFD48056C8C121BDB8,
        0x13E02B6052719F607DACD3A088274F65596BD0D09920B61AB5DA61BBDC7F5049334CF11213945D57E5AC7D055D042B7E,
    ),
    (
        0x0CE5D527727D6E118CC9CDC6DA2E351AADFD9BAA8CBDD3A76D429A695160D12C923AC9CC3BACA289E193548608B82801,
        0x0606C4A02EA734CC32ACD2B02BC28B99CB3E287E85A763AF267492AB572E99AB3F370D275CEC1DA1AAA9075FF05F79BE,
    ),
)

FQ_LIMBS = 12   # 384 bits of 32-bit limbs
FR_LIMBS = 8    # 256 bits

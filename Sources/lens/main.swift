print("lens")
